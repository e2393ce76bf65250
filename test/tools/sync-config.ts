/**
 * Writes the config schema into Pulumi.yaml and the config reference into README.md
 * from components/config/keys.ts. `npm test` fails when either is out of date.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, parseDocument } from "yaml";
import { configReferenceMarkdown, pulumiConfigSchema, REFERENCE_BEGIN, REFERENCE_END } from "../../components/config";

const root = path.resolve(__dirname, "..", "..");

const projectFile = path.join(root, "Pulumi.yaml");
const doc: Document = parseDocument(fs.readFileSync(projectFile, "utf8"));
doc.set("config", doc.createNode(pulumiConfigSchema()));
fs.writeFileSync(projectFile, doc.toString({ lineWidth: 0 }));

const readme = path.join(root, "README.md");
const text = fs.readFileSync(readme, "utf8");
const start = text.indexOf(REFERENCE_BEGIN);
const end = text.indexOf(REFERENCE_END);
if (start < 0 || end < start) throw new Error(`README.md needs the markers ${REFERENCE_BEGIN} and ${REFERENCE_END}`);
fs.writeFileSync(readme, text.slice(0, start + REFERENCE_BEGIN.length) + "\n" + configReferenceMarkdown() + "\n" + text.slice(end));
console.log("Pulumi.yaml and README.md config reference written");

// Figures the lab tests measure (timings, versions, counts), merged into one JSON file that
// several test files share: each writes its own section and keeps the others'.
// The file is gitignored; figures are reported, never asserted.
import * as fs from "node:fs";
import * as path from "node:path";

export const RESULTS_FILE = path.join(__dirname, "results.json");

/** Sets `section` in results.json to `data` (plus the time it was written), keeping every other section. */
export function mergeResults(section: string, data: Record<string, unknown>, file = RESULTS_FILE): void {
    let all: Record<string, unknown> = {};
    try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) all = parsed as Record<string, unknown>;
    } catch {
        // missing or unreadable: start afresh
    }
    all[section] = { ...data, writtenAt: new Date().toISOString() };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
    fs.renameSync(tmp, file);
}

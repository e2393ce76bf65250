/**
 * Unit-suite setup, run in each test file's worker before the file.
 *
 * The Pulumi SDK captures a stack trace for every promise it creates (`debuggablePromise`, kept
 * only for its "leaked promise" message at exit). Under the test runner every stack trace goes
 * through the runner's source-map support, which maps each frame back to the TypeScript source:
 * for the mock-driven component tests that was most of their CPU time. Stacks captured there
 * list their frames as JavaScript file, line and column, unmapped; every other stack, a
 * failing assertion's above all, is still mapped to the source.
 */
const mapped = Error.prepareStackTrace;
const DEBUGGABLE = /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]debuggable\.js$/;

if (mapped) {
    Error.prepareStackTrace = (error, frames) => {
        if (frames.length > 0 && DEBUGGABLE.test(frames[0].getFileName() ?? "")) {
            return `${String(error)}${frames.map((f) => `\n    at ${f.getFileName()}:${f.getLineNumber()}:${f.getColumnNumber()}`).join("")}`;
        }
        return mapped(error, frames);
    };
}

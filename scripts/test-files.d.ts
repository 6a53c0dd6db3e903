/** See test-files.js. */
export function testFiles(opts?: { built?: boolean }): string[];

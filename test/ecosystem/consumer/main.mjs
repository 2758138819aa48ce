// Entry point on Node.js, Bun and Deno: the emulators' configuration comes as
// the first argument, the scenario's results go to stdout as one JSON line.
import { run } from './scenario.mjs';

const config = JSON.parse(globalThis.Deno ? globalThis.Deno.args[0] : process.argv[2]);
console.log(JSON.stringify(await run(config)));

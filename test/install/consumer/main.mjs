// Runs the compiled consumer with the configuration the install test passes as JSON.
import { run } from './dist/consumer.js';

console.log(JSON.stringify(await run(JSON.parse(process.argv[2]))));

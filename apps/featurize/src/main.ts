#!/usr/bin/env node
import { CommanderError } from 'commander';
import { main } from './cli.js';

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`featurize: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

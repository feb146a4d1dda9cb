#!/usr/bin/env node
import { stage } from './cli.js';

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});

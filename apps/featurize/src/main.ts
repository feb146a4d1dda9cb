#!/usr/bin/env node
import { stage } from './cli.js';

process.exitCode = await stage.main();

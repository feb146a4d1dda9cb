#!/usr/bin/env node
// `npm run clearml -- <verb>`: placeholder until the import verb lands.
console.error('npm run clearml: no verbs yet');
process.exitCode = 2;

// Loads the Nx plugin's TypeScript source for Nx inside this workspace (nx.json points here).
// Nx loads plugins with require() and, for a .ts file, wants @swc-node/register (whose @swc/core needs an install
// script) or ts-node (which refuses .ts files of a "type": "module" package under require()). tsx, already a
// workspace dependency, compiles the source on the fly instead. Published packages use dist/nx-plugin.js through
// "@mlops-ts/dvc-adapter/nx-plugin", which Node >= 20.19 can require() without any of this.
/* global require, module, __filename */
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { require: tsxRequire } = require('tsx/cjs/api');
module.exports = tsxRequire('./src/nx-plugin.ts', __filename);

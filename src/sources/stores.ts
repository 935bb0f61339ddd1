// The stores viewgate speaks: one line per store folder (docs/architecture.md, "How to add a store").
export { postgres } from './postgres/index.js';
export { mysql } from './mysql/index.js';
export { mongodb } from './mongodb/index.js';
export { sqlite } from './sqlite/index.js';

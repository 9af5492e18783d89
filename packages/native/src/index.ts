// @sluice/native: the data plane for Node.js — partition logs and the connection writer.
export * from './writer.ts';
export * from './log.ts';
export * from './flush-stats.ts';
export * from './errors.ts';

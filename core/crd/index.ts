export * from './types.js';
export * from './structural.js';
export * from './build.js';

import type { NodeType } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';
import { browserClick } from './browser-click.js';
import { browserClose } from './browser-close.js';
import { browserExtractText } from './browser-extract-text.js';
import { browserFill } from './browser-fill.js';
import { browserOpen } from './browser-open.js';
import { browserScreenshot } from './browser-screenshot.js';
import { browserWaitFor } from './browser-wait-for.js';
import { end } from './end.js';
import { forEach } from './for-each.js';
import { http } from './http.js';
import { ifNode } from './if.js';
import { log } from './log.js';
import { set } from './set.js';
import { start } from './start.js';
import { wait } from './wait.js';

// Handlers take their params already parsed by the node type's schema, so the registry erases P.
const all: Record<NodeType, NodeHandler<never>> = {
  start,
  end,
  log,
  set,
  if: ifNode,
  forEach,
  wait,
  http,
  'browser.open': browserOpen,
  'browser.click': browserClick,
  'browser.fill': browserFill,
  'browser.waitFor': browserWaitFor,
  'browser.extractText': browserExtractText,
  'browser.screenshot': browserScreenshot,
  'browser.close': browserClose,
};

export const handlers: ReadonlyMap<string, NodeHandler<unknown>> = new Map(
  Object.entries(all) as Array<[string, NodeHandler<unknown>]>,
);

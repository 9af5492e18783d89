// The generated napi loader (packages/native/binding.cjs, built from crates/sluice-napi on
// `pnpm install`), loaded once for the whole package. The loader is CommonJS, so ESM code gets
// it through createRequire; its types are the generated binding.d.ts.
import { createRequire } from 'node:module';
import type * as NativeBinding from '../binding.d.ts';

const require = createRequire(import.meta.url);

export const binding: typeof NativeBinding = require('../binding.cjs');

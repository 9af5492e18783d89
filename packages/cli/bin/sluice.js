#!/usr/bin/env node
// The sluice command. TypeScript sources run through Node's type stripping (Node >= 22.18 / 24).
import "../src/main.ts";

// Lints email HTML against the caniemail.com data (@jsx-email/doiuse-email).
// Usage: node lint-email.mjs 'gmail.*,outlook.*' a.html b.html ...
// Prints one JSON object: {file: {errors: {client: [feature]}, warnings: {client: [feature]}}}
// (errors: "not supported", warnings: "only partially supported"); exits 2 on bad usage.
import { readFileSync } from 'node:fs';
import { doIUseEmail } from '@jsx-email/doiuse-email';

const [globs, ...files] = process.argv.slice(2);
if (!globs || files.length === 0) {
  console.error('usage: node lint-email.mjs CLIENT_GLOBS FILE.html...');
  process.exit(2);
}
const MESSAGE = /^`(.+?)` is (not supported|only partially supported) by `(.+?)`$/;

function byClient(messages, out) {
  for (const message of messages ?? []) {
    const found = MESSAGE.exec(message);
    if (!found) {
      (out['?'] ??= []).push(message);
      continue;
    }
    const [, feature, , client] = found;
    const list = (out[client] ??= []);
    if (!list.includes(feature)) list.push(feature);
  }
  return out;
}

const report = {};
for (const file of files) {
  const result = doIUseEmail(readFileSync(file, 'utf8'), { emailClients: globs.split(',') });
  report[file] = { errors: byClient(result.errors, {}), warnings: byClient(result.warnings, {}) };
}
console.log(JSON.stringify(report));

// Drives `okuri lsp` through vscode-languageserver-protocol / vscode-jsonrpc, the libraries
// VS Code's own client is built on: initialize in both position encodings, diagnostics after
// Japanese text (columns computed here, independently: JS strings count UTF-16 units,
// Buffer.byteLength counts bytes), the did-you-mean quick fix applied as an incremental edit,
// completion, hover, definition, references, rename, symbols, formatting, semantic tokens,
// shutdown and exit.
//   node lsp_client.mjs OKURI
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as rpc from 'vscode-languageserver-protocol/node.js';

const okuri = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'okuri-lsp-client-'));
let failures = 0;
function expect(what, ok, detail = '') {
  if (!ok) {
    failures++;
    console.error(`FAIL: ${what}${detail ? `: ${detail}` : ''}`);
  }
}

// Line 3 (0-based): the unknown message `予約案内x` comes after Japanese text.
const text = [
  'tag 予約関心',
  'message 予約案内 text "ご予約はこちら"',
  'message 感謝 text "ありがとうございます"',
  'on message_received when contains(event.text, "予約") { reply 予約案内x; tag 予約関心 }',
  'segment 関心あり = tagged(予約関心)',
  'scenario 入門 {',
  '  start on friend_added',
  '  send 感謝',
  '}',
  '',
].join('\n');
writeFileSync(join(dir, 'main.okuri'), text);
const uri = pathToFileURL(join(dir, 'main.okuri')).href;
const lines = text.split('\n');

function pos(line, needle, offset = 0) {
  return { line, character: lines[line].indexOf(needle) + offset };
}

async function session(encoding) {
  const child = spawn(okuri, ['lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const conn = rpc.createProtocolConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const published = new Map();  // version → diagnostics
  const waiters = [];
  conn.onNotification(rpc.PublishDiagnosticsNotification.type, (p) => {
    if (p.uri !== uri) return;
    published.set(p.version, p.diagnostics);
    for (const w of waiters.splice(0)) w();
  });
  conn.listen();
  async function diagnostics(version) {
    const deadline = Date.now() + 10000;
    while (!published.has(version)) {
      if (Date.now() > deadline) throw new Error(`no diagnostics for version ${version}`);
      await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
    }
    return published.get(version);
  }

  const init = await conn.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(dir).href,
    capabilities: { general: { positionEncodings: [encoding] }, textDocument: { completion: { completionItem: {} } } },
    workspaceFolders: null,
  });
  const caps = init.capabilities;
  expect(`${encoding}: positionEncoding`, caps.positionEncoding === encoding, caps.positionEncoding);
  for (const c of ['hoverProvider', 'completionProvider', 'definitionProvider', 'referencesProvider', 'renameProvider',
    'documentSymbolProvider', 'documentFormattingProvider', 'semanticTokensProvider', 'codeActionProvider']) {
    expect(`${encoding}: capability ${c}`, !!caps[c]);
  }
  expect(`${encoding}: incremental sync`, caps.textDocumentSync && caps.textDocumentSync.change === 2, JSON.stringify(caps.textDocumentSync));
  conn.sendNotification(rpc.InitializedNotification.type, {});
  conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'okuri', version: 1, text } });

  // The mistake after Japanese text, at the column the client counts in its encoding.
  const d1 = await diagnostics(1);
  const e002 = d1.filter((d) => d.code === 'E002');
  const prefix = lines[3].slice(0, lines[3].indexOf('予約案内x'));
  const col = encoding === 'utf-8' ? Buffer.byteLength(prefix) : prefix.length;
  expect(`${encoding}: one E002`, e002.length === 1, JSON.stringify(d1));
  if (e002.length === 1) {
    const r = e002[0].range;
    expect(`${encoding}: E002 position`, r.start.line === 3 && r.start.character === col, `${JSON.stringify(r.start)}, wanted 3:${col}`);
    const width = encoding === 'utf-8' ? Buffer.byteLength('予約案内x') : '予約案内x'.length;
    expect(`${encoding}: E002 end`, r.end.line === 3 && r.end.character === col + width, JSON.stringify(r.end));
    expect(`${encoding}: codeDescription`, /docs\/diagnostics\/E002\.md$/.test(e002[0].codeDescription?.href || ''), e002[0].codeDescription?.href);
    expect(`${encoding}: message`, /予約案内x/.test(e002[0].message), e002[0].message);

    // The did-you-mean fix, applied as the editor would: an incremental change.
    const actions = await conn.sendRequest(rpc.CodeActionRequest.type, {
      textDocument: { uri }, range: r, context: { diagnostics: [e002[0]], only: ['quickfix'] },
    });
    const fix = (actions || []).find((a) => a.edit && a.edit.changes && a.edit.changes[uri]);
    expect(`${encoding}: a quick fix`, !!fix, JSON.stringify(actions));
    if (fix) {
      const edits = fix.edit.changes[uri];
      expect(`${encoding}: the fix names 予約案内`, edits.length === 1 && edits[0].newText === '予約案内', JSON.stringify(edits));
      conn.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: 2 }, contentChanges: edits.map((e) => ({ range: e.range, text: e.newText })),
      });
      const d2 = await diagnostics(2);
      expect(`${encoding}: no error after the fix`, !d2.some((d) => d.severity === 1), JSON.stringify(d2));
    }
  }

  // A position in this session's encoding: UTF-16 units (JS string indices) or bytes.
  const at = (line, needle, offset = 0) => {
    const p = pos(line, needle, offset);
    return encoding === 'utf-8' ? { line, character: Buffer.byteLength(lines[line].slice(0, p.character)) } : p;
  };

  // Completion after `send `: the project's messages.
  const comp = await conn.sendRequest(rpc.CompletionRequest.type, { textDocument: { uri }, position: at(7, 'send ', 5) });
  const labels = (Array.isArray(comp) ? comp : comp.items).map((i) => i.label);
  expect(`${encoding}: completion after send`, labels.includes('感謝') && labels.includes('予約案内'), labels.join(','));
  // Completion inside `tagged(`: tags.
  const comp2 = await conn.sendRequest(rpc.CompletionRequest.type, { textDocument: { uri }, position: at(4, 'tagged(', 7) });
  const tags = (Array.isArray(comp2) ? comp2 : comp2.items).map((i) => i.label);
  expect(`${encoding}: completion in tagged(`, tags.includes('予約関心'), tags.join(','));

  // Hover, definition, references, rename on the tag (positions in this encoding).
  const hover = await conn.sendRequest(rpc.HoverRequest.type, { textDocument: { uri }, position: at(4, '予約関心') });
  const hoverText = JSON.stringify(hover && hover.contents);
  expect(`${encoding}: hover on a tag`, /tag/.test(hoverText) && /予約関心/.test(hoverText), hoverText);
  const def = await conn.sendRequest(rpc.DefinitionRequest.type, { textDocument: { uri }, position: at(7, '感謝') });
  const defs = Array.isArray(def) ? def : [def];
  expect(`${encoding}: definition`, defs.length === 1 && defs[0].uri === uri && defs[0].range.start.line === 2, JSON.stringify(def));
  const refs = await conn.sendRequest(rpc.ReferencesRequest.type, {
    textDocument: { uri }, position: at(0, '予約関心'), context: { includeDeclaration: true },
  });
  expect(`${encoding}: references`, refs && refs.length === 3, JSON.stringify(refs));
  const rename = await conn.sendRequest(rpc.RenameRequest.type, { textDocument: { uri }, position: at(0, '予約関心'), newName: '予約に関心' });
  const renamed = rename && rename.changes ? rename.changes[uri] || [] : [];
  expect(`${encoding}: rename`, renamed.length === 3 && renamed.every((e) => e.newText === '予約に関心'), JSON.stringify(rename));

  const symbols = await conn.sendRequest(rpc.DocumentSymbolRequest.type, { textDocument: { uri } });
  const names = (symbols || []).map((s) => s.name);
  expect(`${encoding}: document symbols`, names.includes('入門') && names.includes('関心あり'), names.join(','));
  const formatting = await conn.sendRequest(rpc.DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  expect(`${encoding}: formatting answers`, Array.isArray(formatting), JSON.stringify(formatting));
  const tokens = await conn.sendRequest(rpc.SemanticTokensRequest.type, { textDocument: { uri } });
  expect(`${encoding}: semantic tokens`, tokens && tokens.data.length > 0 && tokens.data.length % 5 === 0, JSON.stringify(tokens));

  await conn.sendRequest(rpc.ShutdownRequest.type);
  conn.sendNotification(rpc.ExitNotification.type);
  const code = await exited;
  expect(`${encoding}: exit status after shutdown and exit`, code === 0, String(code));
  conn.dispose();
}

try {
  await session('utf-16');
  await session('utf-8');
} catch (e) {
  failures++;
  console.error(`FAIL: ${e.stack || e}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failures === 0) console.log('lsp client: all passed (utf-16 and utf-8)');
process.exit(failures === 0 ? 0 : 1);

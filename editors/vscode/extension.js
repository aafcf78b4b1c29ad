// The Okuri extension's client: starts `okuri lsp` (the language server, JSON-RPC
// over stdio) for .okuri files. Highlighting comes from the TextMate grammar in
// syntaxes/ and works without the server.
'use strict';

const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, RevealOutputChannelOn } = require('vscode-languageclient/node');

let client = null;
let outputChannel = null;
let fileWatcher = null;

// The `okuri.path` setting: a command looked up on PATH (`okuri`), a path starting
// with `~/`, an absolute path, or a path relative to the first workspace folder
// (`build/okuri`).
function serverCommand() {
  const configured = (vscode.workspace.getConfiguration('okuri').get('path') || '').trim() || 'okuri';
  if (configured === '~' || configured.startsWith('~/')) {
    return path.join(os.homedir(), configured.slice(1));
  }
  if (path.isAbsolute(configured) || !/[\\/]/.test(configured)) {
    return configured;
  }
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  return folder ? path.join(folder.uri.fsPath, configured) : configured;
}

function workingDirectory() {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  return folder && folder.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

async function startClient() {
  const command = serverCommand();
  // No `transport`: the client then spawns the command as it is (no `--stdio`
  // argument) and talks to it over stdin and stdout.
  const serverOptions = {
    command,
    args: ['lsp'],
    options: { cwd: workingDirectory() },
  };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'okuri' }],
    synchronize: {
      // Files created, changed or deleted outside the editor (git checkout, okuri fmt)
      // change the project the server checks.
      fileEvents: fileWatcher,
    },
    outputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  // The id `okuri` makes the client read `okuri.trace.server` by itself.
  client = new LanguageClient('okuri', 'Okuri Language Server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    client = null;
    const detail = err && err.message ? err.message : String(err);
    outputChannel.appendLine(`Could not start \`${command} lsp\`: ${detail}`);
    const choice = await vscode.window.showErrorMessage(
      `Okuri: could not start the language server \`${command} lsp\`. ` +
        'Put the `okuri` binary on your PATH or set `okuri.path`. Highlighting still works.',
      'Open Settings',
      'Show Output',
    );
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'okuri.path');
    } else if (choice === 'Show Output') {
      outputChannel.show(true);
    }
  }
}

async function stopClient() {
  if (!client) return;
  const running = client;
  client = null;
  try {
    await running.stop();
  } catch (err) {
    // A server that already exited cannot be stopped again.
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

async function activate(context) {
  outputChannel = vscode.window.createOutputChannel('Okuri Language Server');
  fileWatcher = vscode.workspace.createFileSystemWatcher('**/*.okuri');
  context.subscriptions.push(outputChannel, fileWatcher);
  context.subscriptions.push(
    vscode.commands.registerCommand('okuri.restartServer', () => restartClient()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('okuri.path')) restartClient();
    }),
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };

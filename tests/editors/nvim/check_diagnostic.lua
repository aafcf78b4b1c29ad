-- Run by nvim_test.sh in a headless Neovim with editors/nvim/okuri.lua set up: waits
-- for the server's diagnostics on the opened file and writes them, one per line, as
-- "CODE LINE COLUMN" (1-based line, 0-based byte column as Neovim places them) to
-- the file named by $OKURI_NVIM_OUT; then asks the server for a hover and a
-- completion and writes what came back.
local out = assert(os.getenv('OKURI_NVIM_OUT'))
local lines = {}
local ok = vim.wait(15000, function() return #vim.diagnostic.get(0) > 0 end, 50)
if not ok then
  table.insert(lines, 'no diagnostics')
else
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(lines, string.format('%s %d %d', tostring(d.code), d.lnum + 1, d.col))
  end
end
-- Completion right after `send ` on the line named by $OKURI_NVIM_COMPLETE_LINE.
local line = tonumber(os.getenv('OKURI_NVIM_COMPLETE_LINE'))
if line then
  local text = vim.api.nvim_buf_get_lines(0, line - 1, line, false)[1]
  local col = assert(text:find('send ', 1, true)) + 4
  local params = { textDocument = vim.lsp.util.make_text_document_params(), position = { line = line - 1, character = col } }
  local res = vim.lsp.buf_request_sync(0, 'textDocument/completion', params, 5000) or {}
  local labels = {}
  for _, r in pairs(res) do
    local items = r.result and (r.result.items or r.result) or {}
    for _, it in ipairs(items) do table.insert(labels, it.label) end
  end
  table.sort(labels)
  table.insert(lines, 'completion ' .. table.concat(labels, ','))
end
local f = assert(io.open(out, 'w'))
f:write(table.concat(lines, '\n') .. '\n')
f:close()
vim.cmd('qa!')

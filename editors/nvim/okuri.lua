-- Okuri in Neovim: `.okuri` files get the `okuri` filetype, and `okuri lsp` is
-- started for them (one server per project folder) with Neovim's own LSP client.
-- Works on 0.7 (vim.lsp.start_client + vim.lsp.buf_attach_client) and on 0.8 and
-- later (vim.lsp.start, which also reuses a running server for the same folder).
--
-- Use: copy this file to ~/.config/nvim/lua/okuri.lua and put
--   require('okuri').setup()                          -- `okuri` on PATH
--   require('okuri').setup({ cmd = { '/path/to/okuri', 'lsp' } })
-- in ~/.config/nvim/init.lua. See docs/editors.md.
local M = {}

local clients = {}  -- 0.7: project folder → client id

local function root_of(bufnr)
  -- The project is the folder of the file: all of its `.okuri` files, as `okuri check FOLDER` reads them.
  return vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h')
end

function M.start(bufnr, opts)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local root = root_of(bufnr)
  local config = {
    name = 'okuri',
    cmd = opts.cmd or { 'okuri', 'lsp' },
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    on_attach = opts.on_attach,
  }
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients[root]
  if not id or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(config)
    clients[root] = id
  end
  if id then vim.lsp.buf_attach_client(bufnr, id) end
  return id
end

function M.setup(opts)
  opts = opts or {}
  local group = vim.api.nvim_create_augroup('okuri', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
    group = group,
    pattern = '*.okuri',
    callback = function(args) vim.bo[args.buf].filetype = 'okuri' end,
  })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'okuri',
    callback = function(args)
      vim.bo[args.buf].commentstring = '# %s'
      vim.bo[args.buf].expandtab = true
      vim.bo[args.buf].shiftwidth = 2
      M.start(args.buf, opts)
    end,
  })
end

return M

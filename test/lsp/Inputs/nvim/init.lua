-- init.lua: Neovim as the client of `gilcheck --lsp`, for test/lsp/nvim.test.
--
-- First it runs the editor set-up under test, $GILCHECK_LSP_SETUP: the Lua
-- block of docs/editors.md, extracted as it stands (Inputs/nvim/extract.py),
-- which starts `gilcheck --lsp` (the first `gilcheck` on PATH) for C
-- buffers. Then it opens the file named on the command line, waits for the
-- set-up to attach a client named gilcheck, waits for diagnostics and writes
-- them to $GILCHECK_LSP_OUT, one a line:
--   lnum=L col=C severity=S code=RULE related=N message
-- (L and C 0-based, as Neovim holds them), then each related location as
--   related FILE:LINE:COL message   (1-based).
-- With $GILCHECK_LSP_FIX set, it then deletes the lines holding that text,
-- saves, and waits for the diagnostics to go. Last, it stops the client and
-- waits for the server to be gone. Anything that times out is written down
-- as "FAILED: ..." and makes Neovim exit with status 1.
--
-- Any Lua error is written down too and ends Neovim with status 1: a
-- headless Neovim must never stop at a prompt.
--
-- Environment: GILCHECK_LSP_SETUP (the set-up), GILCHECK_LSP_OUT (the
-- output file), GILCHECK_LSP_FIX (optional), GILCHECK_LSP_TIMEOUT (ms,
-- default 60000).

local out = io.open(vim.env.GILCHECK_LSP_OUT or "gilcheck-lsp-out.txt", "w")
local timeout = tonumber(vim.env.GILCHECK_LSP_TIMEOUT or "60000")
local severities = { "error", "warning", "info", "hint" }

vim.opt.swapfile = false
vim.opt.shortmess:append("AF")

local function emit(fmt, ...)
  out:write(string.format(fmt, ...) .. "\n")
  out:flush()
end

local function fail(what)
  emit("FAILED: %s", what)
  io.stderr:write("init.lua: " .. what .. "\n")
  out:close()
  vim.cmd("cquit 1")
end

local function dump(label, bufnr)
  local ds = vim.diagnostic.get(bufnr)
  table.sort(ds, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  emit("%s: %d diagnostic%s", label, #ds, #ds == 1 and "" or "s")
  for _, d in ipairs(ds) do
    local lsp = (d.user_data and d.user_data.lsp) or {}
    local related = lsp.relatedInformation or {}
    emit("lnum=%d col=%d severity=%s code=%s related=%d %s", d.lnum, d.col,
      severities[d.severity] or tostring(d.severity), tostring(d.code or lsp.code), #related, d.message)
    for _, r in ipairs(related) do
      local s = r.location.range.start
      emit("related %s:%d:%d %s", vim.fn.fnamemodify(vim.uri_to_fname(r.location.uri), ":t"),
        s.line + 1, s.character + 1, r.message)
    end
    if lsp.codeDescription then emit("href %s", lsp.codeDescription.href) end
  end
end

-- The set-up under test: it registers its FileType autocommand now, before
-- Neovim loads the file named on the command line.
local setup_ok, setup_err = pcall(dofile, vim.env.GILCHECK_LSP_SETUP or "GILCHECK_LSP_SETUP is not set")

local function gilcheck_client(bufnr)
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if c.name == "gilcheck" then return c end
  end
end

local function run()
  if not setup_ok then return fail("the set-up failed: " .. tostring(setup_err)) end
  local bufnr = vim.api.nvim_get_current_buf()
  local file = vim.api.nvim_buf_get_name(bufnr)
  if vim.bo[bufnr].filetype ~= "c" then
    return fail("the file type of " .. vim.fn.fnamemodify(file, ":t") .. " is '" .. vim.bo[bufnr].filetype .. "'")
  end
  if not vim.wait(timeout, function() return gilcheck_client(bufnr) ~= nil end, 50) then
    return fail("the set-up attached no client named gilcheck to " .. vim.fn.fnamemodify(file, ":t"))
  end
  local client = gilcheck_client(bufnr)
  emit("attached: %s, root %s", client.name, vim.fn.fnamemodify(client.config.root_dir, ":t"))

  if not vim.wait(timeout, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
    return fail("timed out waiting for diagnostics on " .. vim.fn.fnamemodify(file, ":t"))
  end
  dump("opened", bufnr)

  local fix = vim.env.GILCHECK_LSP_FIX
  if fix then
    local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    for i = #lines, 1, -1 do
      if lines[i]:find(fix, 1, true) then vim.api.nvim_buf_set_lines(bufnr, i - 1, i, false, {}) end
    end
    vim.cmd("write")
    if not vim.wait(timeout, function() return #vim.diagnostic.get(bufnr) == 0 end, 50) then
      dump("still", bufnr)
      return fail("timed out waiting for the diagnostics to go after the fix was saved")
    end
    dump("saved", bufnr)
  end

  vim.lsp.stop_client(client.id)
  if not vim.wait(timeout, function() return client.is_stopped() end, 50) then
    return fail("timed out waiting for the server to stop")
  end
  emit("server stopped")
  out:close()
  vim.cmd("qall!")
end

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local ok, err = xpcall(run, debug.traceback)
      if not ok then fail("error: " .. tostring(err)) end
    end)
  end,
})

-- init.lua: Neovim as the client of `gilcheck --lsp`, for test/lsp/nvim.test.
--
-- Opens the file named on the command line, starts the server on it
-- (vim.lsp.start on Neovim 0.8+, vim.lsp.start_client before), waits for
-- its diagnostics and writes them to $GILCHECK_LSP_OUT, one a line:
--   lnum=L col=C severity=S code=RULE related=N message
-- (L and C 0-based, as Neovim holds them), then each related location as
--   related FILE:LINE:COL message   (1-based).
-- With $GILCHECK_LSP_FIX set, it then deletes the lines holding that text,
-- saves, and waits for the diagnostics to go. Last, it stops the server and
-- writes its exit code. Anything that times out is written down as
-- "FAILED: ..." and makes Neovim exit with status 1.
--
-- Any Lua error is written down too and ends Neovim with status 1: a
-- headless Neovim must never stop at a prompt.
--
-- Environment: GILCHECK (the binary), GILCHECK_LSP_OUT (the output file),
-- GILCHECK_LSP_LOG (the server's standard error, optional),
-- GILCHECK_LSP_FIX (optional), GILCHECK_LSP_TIMEOUT (ms, default 60000).

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

local function run()
  local gilcheck = assert(vim.env.GILCHECK, "GILCHECK is not set")
  local bufnr = vim.api.nvim_get_current_buf()
  local file = vim.api.nvim_buf_get_name(bufnr)
  local cmd = { gilcheck, "--lsp", "-v" }
  if vim.env.GILCHECK_LSP_LOG then
    cmd = { "sh", "-c", 'exec "$0" --lsp -v 2>>"$1"', gilcheck, vim.env.GILCHECK_LSP_LOG }
  end
  local exit_code
  local config = {
    name = "gilcheck",
    cmd = cmd,
    root_dir = vim.fn.fnamemodify(file, ":p:h"),
    on_exit = function(code) exit_code = code end,
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config, { bufnr = bufnr })
  else
    client_id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(bufnr, client_id)
  end

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

  vim.lsp.stop_client(client_id)
  if not vim.wait(timeout, function() return exit_code ~= nil end, 50) then
    return fail("timed out waiting for the server to exit")
  end
  emit("server exit code %d", exit_code)
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

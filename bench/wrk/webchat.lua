-- wrk -s bench/wrk/webchat.lua URL -- TOKENS_FILE
-- Every request is a chat message (the HTTP fallback) from the next visitor's session
-- token in TOKENS_FILE (one a line, each made by POST /channels/webchat/sessions): one
-- message per visitor while tokens last, so each is a new customer. The gateway answers
-- 200 only after the message is committed.
local threads = {}

local texts = {
  "I paid 250 USDT for order %d an hour ago and the seller still has not released.",
  "Продавец не отпускает крипту по ордеру %d, я оплатил 20000 рублей.",
  "The buyer marked order %d as paid but I received nothing in my bank account.",
  "Tôi đã chuyển tiền cho lệnh %d nhưng người bán không giải phóng USDT.",
}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("PARLEY_WRK_THREADS") or "1")
  tokens = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % count == tid then
      table.insert(tokens, line)
    end
    i = i + 1
  end
  n = 0
end

function request()
  n = n + 1
  local token = tokens[((n - 1) % #tokens) + 1]
  local body = string.format('{"client_id":"wrk-%d-%d","text":"%s"}', tid, n,
    string.format(texts[(n % #texts) + 1], n))
  return wrk.format("POST", "/channels/webchat/messages", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

dofile(os.getenv("PARLEY_WRK_REPORT"))

-- wrk -s bench/wrk/telegram.lua URL -- SECRET BASE
-- Every request is a private-chat Update from a customer never seen before (chat and
-- update ids: BASE + thread * 10^7 + n), posted with the webhook's secret token. The
-- gateway answers 200 only after the message is committed.
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
  secret = args[1]
  base = tonumber(args[2] or "8000000000")
  n = 0
end

function request()
  n = n + 1
  local chat = base + tid * 10000000 + n
  local text = string.format(texts[(n % #texts) + 1], n)
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,' ..
    '"first_name":"Customer %d","language_code":"en"},"chat":{"id":%d,"type":"private",' ..
    '"first_name":"Customer %d"},"date":%d,"text":"%s"}}',
    chat, n, chat, n, chat, n, os.time(), text)
  return wrk.format("POST", "/channels/telegram/webhook", {
    ["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = secret,
  }, body)
end

dofile(os.getenv("PARLEY_WRK_REPORT"))

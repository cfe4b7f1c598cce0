-- wrk script for the data API: key lookups by household id, or 100-row pages at $offset=0…5000, with the app's key.
-- usage: wrk ... -s lookup.lua URL -- HOUSEHOLDS_FILE KEY MODE   (MODE = lookup | offset | anchor | anchor-offset)
-- The keyset pages (nextCursor walks) are pages.lua's.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  ids = {}
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do if #line > 0 then ids[#ids + 1] = line end end
  f:close()
  key, mode = args[2], args[3] or "lookup"
  math.randomseed(42 + (tid or 0))
end
function request()
  local id = ids[math.random(#ids)]
  if mode == "anchor" then return wrk.format("GET", "/household/" .. id) end
  if mode == "anchor-offset" then return wrk.format("GET", "/page?offset=" .. math.random(0, 5000)) end
  local headers = { ["Authorization"] = "Bearer " .. key }
  if mode == "offset" then
    return wrk.format("GET", "/api/v1/data/population-basic?$limit=100&$offset=" .. math.random(0, 5000), headers)
  end
  return wrk.format("GET", "/api/v1/data/population-basic?$where=household_id%3D%27" .. id .. "%27", headers)
end

/**
 * The Lua scripts of the Redis store (redis-store.ts). Each runs atomically on the server: no other
 * client's command runs between its reads and its writes. They hold no rule of the mock: the record
 * changes are computed in TypeScript (the in-memory store's functions) and CAS only compares and writes.
 *
 * Scripts reach only the keys they are given, except READ_REFRESH (the family key named by the rt
 * key's value) and ADD_PENDING (pending logins named by its index): a standalone Redis, not a cluster.
 */

/**
 * Compare-and-set over several keys. ARGV[1] = n: KEYS[1..n] are compared and written. For key i,
 * ARGV[3i+1] is what it must hold: '*' anything, '!' nothing, '=<value>' exactly that, '#<n>' a
 * list of n elements; ARGV[3i+2] what to do: '' nothing, '=<value>' SET, '-' DEL, '+<value>' RPUSH;
 * ARGV[3i+3] a TTL in ms, applied with the write, or alone (PEXPIRE) when the value is kept; '': the
 * key keeps the TTL it has (KEEPTTL: a SET alone would drop it). Every comparison first, then every
 * write: 1; or no write at all: 0.
 * KEYS[n+1..] (a family's refresh-token keys, oldest first) are renewed together to ARGV[3] ms when
 * the first has less than ARGV[2] ms left: one PTTL per write, not one PEXPIRE per token.
 */
export const CAS = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local e = ARGV[3*i+1]
  if string.sub(e, 1, 1) == '#' then
    if redis.call('LLEN', KEYS[i]) ~= tonumber(string.sub(e, 2)) then return 0 end
  elseif e ~= '*' then
    local v = redis.call('GET', KEYS[i])
    if e == '!' then
      if v then return 0 end
    elseif v ~= string.sub(e, 2) then
      return 0
    end
  end
end
for i = 1, n do
  local v, t = ARGV[3*i+2], ARGV[3*i+3]
  if string.sub(v, 1, 1) == '=' then
    if t ~= '' then redis.call('SET', KEYS[i], string.sub(v, 2), 'PX', t) else redis.call('SET', KEYS[i], string.sub(v, 2), 'KEEPTTL') end
  elseif v == '-' then
    redis.call('DEL', KEYS[i])
  elseif string.sub(v, 1, 1) == '+' then
    redis.call('RPUSH', KEYS[i], string.sub(v, 2))
    if t ~= '' then redis.call('PEXPIRE', KEYS[i], t) end
  elseif t ~= '' then
    redis.call('PEXPIRE', KEYS[i], t)
  end
end
if #KEYS > n and redis.call('PTTL', KEYS[n+1]) < tonumber(ARGV[2]) then
  for i = n + 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return 1
`;

/** KEYS[1] a family's key, KEYS[2] its access-token list: { its JSON, hash, hash, ... }, or nil. */
export const READ_FAMILY = `
local family = redis.call('GET', KEYS[1])
if not family then return false end
local held = redis.call('LRANGE', KEYS[2], 0, -1)
table.insert(held, 1, family)
return held
`;

/** KEYS[1] the rt key (its value: a family id); ARGV[1] the family key's prefix. The family's JSON (without its access tokens), or nil. */
export const READ_REFRESH = `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('GET', ARGV[1] .. id)
`;

/**
 * A pending login, with at most ARGV[3] held. KEYS[1] the index (sorted set: login id by insertion
 * number), KEYS[2] its counter, KEYS[3] the login's key; ARGV[1] its JSON, ARGV[2] TTL (ms), ARGV[3]
 * max, ARGV[4] the prefix of login keys, ARGV[5] the login id. Logins whose key expired leave the
 * index from its old end (all share one lifetime: the oldest expire first); then the oldest go
 * until there is room. The index and counter live as long as the newest login.
 */
export const ADD_PENDING = `
local idx, prefix, max = KEYS[1], ARGV[4], tonumber(ARGV[3])
while true do
  local oldest = redis.call('ZRANGE', idx, 0, 0)
  if #oldest == 0 or redis.call('EXISTS', prefix .. oldest[1]) == 1 then break end
  redis.call('ZREM', idx, oldest[1])
end
redis.call('ZREM', idx, ARGV[5])
while redis.call('ZCARD', idx) >= max do
  local dropped = redis.call('ZPOPMIN', idx)
  redis.call('DEL', prefix .. dropped[1])
end
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', idx, n, ARGV[5])
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', idx, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

/** KEYS[1] the index, KEYS[2] the login's key; ARGV[1] the login id. 1: removed; 0: it was gone already. */
export const REMOVE_PENDING = `
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
`;

/** KEYS[1] a jti's key; ARGV[1] now, ARGV[2] until, ARGV[3] TTL (ms). 0: held and now < its until (a replay). */
export const REMEMBER_JTI = `
local held = redis.call('GET', KEYS[1])
if held and tonumber(ARGV[1]) < tonumber(held) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS[1] a shared value's key; ARGV[1] the candidate: the value held, or the candidate now held (first writer wins). */
export const SHARED = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

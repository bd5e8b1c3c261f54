// ioredis against a server on the port given: what tests/clients.rs runs
// (CI installs ioredis 5 with npm; see .ci/run). Connection name, pipelines,
// MULTI, defineCommand (EVALSHA, then EVAL on NOSCRIPT), scanStream,
// streams, a blocking pop served by another client, pub/sub with patterns,
// INFO's version, error replies, auto-pipelining and MONITOR. Prints
// "ALL OK" or the first mismatches and exits 1.
const Redis = require("ioredis");
const port = parseInt(process.argv[2]);
function eq(a, b, what) {
  const sa = JSON.stringify(a), sb = JSON.stringify(b);
  if (sa !== sb) { console.log("MISMATCH", what, sa, "!=", sb); process.exitCode = 1; }
}
(async () => {
  const r = new Redis({ port, lazyConnect: false, connectionName: "smoke" });
  await r.flushall();
  eq(await r.set("a", "1"), "OK", "set");
  eq(await r.get("a"), "1", "get");
  eq(await r.incrby("a", 5), 6, "incrby");
  const p = await r.pipeline().set("x", "y").get("x").lpush("l", "a", "b").lrange("l", 0, -1).exec();
  eq(p, [[null, "OK"], [null, "y"], [null, 2], [null, ["b", "a"]]], "pipeline");
  const m = await r.multi().incr("c").incr("c").exec();
  eq(m, [[null, 1], [null, 2]], "multi");
  r.defineCommand("myecho", { numberOfKeys: 1, lua: "return {KEYS[1], ARGV[1]}" });
  eq(await r.myecho("k", "v"), ["k", "v"], "defineCommand (EVALSHA then EVAL)");
  eq(await r.myecho("k2", "v2"), ["k2", "v2"], "defineCommand again");
  await r.hset("h", { f1: "v1", f2: "v2" });
  eq(await r.hgetall("h"), { f1: "v1", f2: "v2" }, "hgetall");
  await r.zadd("z", 1, "a", 2, "b");
  eq(await r.zrange("z", 0, -1, "WITHSCORES"), ["a", "1", "b", "2"], "zrange");
  for (let i = 0; i < 300; i++) await r.set("s:" + i, i);
  const keys = new Set();
  await new Promise((res) => r.scanStream({ match: "s:*", count: 50 }).on("data", (ks) => ks.forEach((k) => keys.add(k))).on("end", res));
  eq(keys.size, 300, "scanStream");
  const id = await r.xadd("st", "*", "f", "v");
  const xr = await r.xread("COUNT", 1, "STREAMS", "st", "0");
  eq(xr[0][1][0][0], id, "xread");
  // blocking pop served by another client
  const b = r.duplicate();
  const pending = b.blpop("bl", 2);
  await new Promise((res) => setTimeout(res, 100));
  await r.rpush("bl", "v");
  eq(await pending, ["bl", "v"], "blpop");
  // pub/sub
  const sub = r.duplicate();
  const got = new Promise((res) => sub.on("message", (ch, msg) => res([ch, msg])));
  await sub.subscribe("news");
  eq(await r.publish("news", "hi"), 1, "publish");
  eq(await got, ["news", "hi"], "message");
  const pgot = new Promise((res) => sub.on("pmessage", (pat, ch, msg) => res([pat, ch, msg])));
  await sub.psubscribe("n*");
  await r.publish("nz", "x");
  eq(await pgot, ["n*", "nz", "x"], "pmessage");
  eq((await r.client("GETNAME")), "smoke", "connectionName");
  const info = await r.info("server");
  eq(/redis_version:7\.0\./.test(info), true, "info redis_version");
  // errors
  try { await r.lpush("a", "x"); eq("no error", "WRONGTYPE", "wrongtype"); } catch (e) { eq(e.message.startsWith("WRONGTYPE"), true, "wrongtype"); }
  // auto pipelining
  const ap = new Redis({ port, enableAutoPipelining: true });
  const res = await Promise.all(Array.from({ length: 100 }, (_, i) => ap.incr("ap")));
  eq(res[99], 100, "autopipelining");
  // monitor
  const dup = r.duplicate();
  const mon = await dup.monitor();
  const seen = new Promise((res) => mon.on("monitor", (time, args) => { if (args[0] === "ping") res(args); }));
  await r.ping();
  eq(await seen, ["ping"], "monitor");
  for (const c of [mon, dup, ap, sub, b, r]) c.disconnect();
  console.log(process.exitCode ? "FAILED" : "ALL OK");
})().catch((e) => { console.log("ERROR", e); process.exit(1); });

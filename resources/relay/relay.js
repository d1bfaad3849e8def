// A media relay for the wall (docs/deployment.md): Node-Media-Server serves every camera
// to every wall PC as RTMP and HTTP-FLV, and pulls a camera only while someone watches it.
//
// The pull is the server's own (its NodeRelaySession: one ffmpeg, stream copy, into its
// RTMP ingest), started at the first viewer of a stream and ended LINGER seconds after
// the last one leaves. Its bundled on-demand logic (relay.tasks, mode "pull") is not used:
// in this version it keys a pull by the viewer that started it, so it never ends when
// another viewer is the last to leave, and starts one pull per viewer that arrives before
// the first one connects (docs/deployment.md, "On-demand relay").
//
//   node relay.js CONFIG.json
//   CONFIG: {"rtmp_port", "http_port", "ffmpeg", "linger_s", "sources": {"<camera>": "<its URL>"}}
//   A stream is /live/<camera>; its source is sources[<camera>].
const fs = require("fs");
const path = require("path");
const NodeMediaServer = require("node-media-server");
const NodeRelaySession = require("node-media-server/src/node_relay_session");
const context = require("node-media-server/src/node_core_ctx");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const lingerMs = 1000 * (cfg.linger_s === undefined ? 10 : cfg.linger_s);
const server = new NodeMediaServer({
  logType: 1,
  rtmp: { port: cfg.rtmp_port, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
  http: { port: cfg.http_port, host: "127.0.0.1", allow_origin: "*", mediaroot: path.join(path.dirname(process.argv[2]), "media") },
});

const viewers = new Map(); // stream path → ids of the sessions watching it
const pulls = new Map(); // stream path → {session, timer}
const say = (o) => console.log(JSON.stringify(o));

function sourceOf(streamPath) {
  const m = /^\/live\/([^/]+)$/.exec(streamPath);
  return m ? cfg.sources[m[1]] : undefined;
}

function startPull(streamPath) {
  const pull = pulls.get(streamPath);
  if (pull) { // watched again before it was let go
    clearTimeout(pull.timer);
    pull.timer = null;
    return;
  }
  const source = sourceOf(streamPath);
  if (source === undefined) return;
  const session = new NodeRelaySession({
    ffmpeg: cfg.ffmpeg, inPath: source, rtsp_transport: "tcp",
    ouPath: `rtmp://127.0.0.1:${cfg.rtmp_port}${streamPath}`,
  });
  pulls.set(streamPath, { session, timer: null });
  session.on("end", () => {
    const p = pulls.get(streamPath);
    if (p && p.session === session) pulls.delete(streamPath);
    say({ pull: "end", stream: streamPath, pulls: pulls.size });
    // the source broke while watched: pull again, a second later
    if ((viewers.get(streamPath) || new Set()).size && !pulls.has(streamPath)) {
      setTimeout(() => { if ((viewers.get(streamPath) || new Set()).size) startPull(streamPath); }, 1000);
    }
  });
  session.run();
  say({ pull: "start", stream: streamPath, pulls: pulls.size });
}

function letGo(streamPath) {
  const pull = pulls.get(streamPath);
  if (!pull || pull.timer) return;
  pull.timer = setTimeout(() => {
    if ((viewers.get(streamPath) || new Set()).size === 0 && pulls.get(streamPath) === pull) {
      pulls.delete(streamPath);
      pull.session.end();
    }
  }, lingerMs);
}

function left(id) {
  for (const [streamPath, ids] of viewers) {
    if (ids.delete(id) && ids.size === 0) {
      viewers.delete(streamPath);
      letGo(streamPath);
    }
  }
}

server.on("prePlay", (id, streamPath) => {
  if (sourceOf(streamPath) === undefined) return;
  if (!viewers.has(streamPath)) viewers.set(streamPath, new Set());
  viewers.get(streamPath).add(id);
  startPull(streamPath);
});
server.on("donePlay", (id) => left(id));
server.on("doneConnect", (id) => left(id)); // a viewer that left before its stream arrived

server.run();
function stop() {
  for (const pull of pulls.values()) pull.session.end();
  server.stop();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
say({ ready: true, rtmp_port: cfg.rtmp_port, http_port: cfg.http_port, sources: Object.keys(cfg.sources).length });

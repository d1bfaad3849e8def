// A media relay for the wall (docs/deployment.md): Node-Media-Server takes each camera
// once (pushed in over RTMP by the puller wallclient.demo.relay starts, one ffmpeg per
// camera: its own relay tasks are broken in this version) and serves it to every wall
// PC as RTMP and HTTP-FLV, so N walls cost the camera one stream, not N.
//   node relay.js CONFIG.json   with {"rtmp_port", "http_port"}
const fs = require("fs");
const path = require("path");
const NodeMediaServer = require("node-media-server");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const server = new NodeMediaServer({
  logType: 1,
  rtmp: { port: cfg.rtmp_port, chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
  http: { port: cfg.http_port, host: "127.0.0.1", allow_origin: "*", mediaroot: path.join(path.dirname(process.argv[2]), "media") },
});
server.run();
process.on("SIGTERM", () => { server.stop(); process.exit(0); });
console.log(JSON.stringify({ ready: true, rtmp_port: cfg.rtmp_port, http_port: cfg.http_port }));

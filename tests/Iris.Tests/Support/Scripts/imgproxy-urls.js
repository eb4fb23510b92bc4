// Generates imgproxy URLs with the official builder, @imgproxy/imgproxy-node (scripts/install-imgproxy-node.sh), the
// way an existing client would. Reads a JSON array of generateImageUrl arguments on stdin and writes a JSON array of URLs.
const { generateImageUrl } = require("@imgproxy/imgproxy-node");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const urls = JSON.parse(input).map((args) => generateImageUrl(args));
  process.stdout.write(JSON.stringify(urls));
});

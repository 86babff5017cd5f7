// clicks: counts page views per page in each Kinesis batch of click events
// ({"page": "/home", "user": "u1"} records, base64-encoded by Kinesis).
exports.handler = async (event) => {
  const counts = {};
  let bad = 0;
  for (const record of event.Records || []) {
    try {
      const click = JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
      const page = click.page || "(unknown)";
      counts[page] = (counts[page] || 0) + 1;
    } catch (err) {
      bad++;
    }
  }
  console.log(JSON.stringify({ clicks: counts, malformed: bad }));
  return { pages: Object.keys(counts).length, malformed: bad };
};

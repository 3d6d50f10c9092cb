// The benchmark peer: the Express + AWS SDK v3 DocumentClient service usersvc replaces,
// as the widely copied "Using DynamoDB with Express" tutorial writes it.
// Env: PORT, HOST (default 127.0.0.1), AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, TABLE_NAME (default Users).
import express from "express";
import usersRouter from "./routes/users.js";

const app = express();
// PATCH bodies may come as JSON merge patch; parse them as JSON too so the peer
// does the same work as usersvc for the same request.
app.use(express.json({ type: ["application/json", "application/merge-patch+json"] }));

app.get("/healthz", (req, res) => res.json({ status: "ok" }));
app.use("/users", usersRouter);

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";
const server = app.listen(port, host, () => {
  console.log(`peer listening on http://${host}:${port}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

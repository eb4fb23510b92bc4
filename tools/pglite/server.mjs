// PGlite (PostgreSQL in WASM) with pgvector on 127.0.0.1, one client connection at a time.
// Usage: node server.mjs PORT [DATA_DIR]   (DATA_DIR defaults to memory://)
//
// Why not `pglite-server --max-connections=N`: PGlite is one PostgreSQL session, and pglite-socket 0.2.17 multiplexes
// its clients per protocol message, keeping one client exclusive only inside a transaction. Outside one, two clients'
// extended-protocol messages interleave (Npgsql then fails with `portal "" does not exist`), and every client shares
// the session's settings. So this server queues whole connections instead: a client waits (connected, unanswered)
// until the one before it disconnects, then has the session to itself. Clients use Pooling=false so each operation
// is one short connection. handleConnection/handlers/active are pglite-socket's internals, hence the pinned version.
import net from 'node:net'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const port = Number(process.argv[2] ?? 5432)
const dataDir = process.argv[3] ?? 'memory://'
const db = await PGlite.create(dataDir, { extensions: { vector } })
await db.exec('CREATE EXTENSION IF NOT EXISTS vector')

const pg = new PGLiteSocketServer({ db, maxConnections: 1 })
pg.active = true
const waiting = []
let busy = false

function next() {
  if (busy) return
  const socket = waiting.shift()
  if (!socket) return
  if (socket.destroyed) return next()
  busy = true
  socket.once('close', () => {
    // pglite-socket frees its slot a few ticks after the socket closes.
    const free = () => (pg.handlers.size === 0 ? ((busy = false), next()) : setTimeout(free, 1))
    free()
  })
  pg.handleConnection(socket)
}

net.createServer((socket) => {
  socket.on('error', () => {})
  waiting.push(socket)
  next()
}).listen(port, '127.0.0.1', () => console.log(`PGlite with pgvector listening on 127.0.0.1:${port}`))

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, async () => { await db.close(); process.exit(0) })

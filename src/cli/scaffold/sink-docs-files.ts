/** Templates of the generated sink package's README and example config. */
import type { ScaffoldNames } from "./names.js";

/** `README.md` with the sections a tagbridge sink README has. */
export function sinkReadme(n: ScaffoldNames): string {
  return `# ${n.packageName}

tagbridge north sink for ${n.type} (sink type \`${n.type}\`).

## Overview

TODO: where this sink publishes readings, and in what format.

- Capabilities: \`ack\` (a resolved publish means the peer acknowledged it), \`replay\` (replayed
  readings are marked historical). Add \`batch\` and a \`batching\` object if the peer takes many
  readings per message.
- SDK range: \`${n.sdkRange}\` (tagbridge refuses to load the package when its SDK is outside it).
- The gateway owns selection, queues, the durable buffer, replay order, timeouts and retries.

## Configuration

Install the package next to tagbridge (\`npm install ${n.packageName}\`), name it in the gateway
config, and add a \`north:\` entry of \`type: ${n.type}\`:

\`\`\`yaml
sinks: [${n.packageName}]
\`\`\`

Besides the core sink fields (\`id\`, \`type\`, \`description\`, \`enabled\`, \`select\`, \`buffer\`,
\`queueCapacity\`, \`publishTimeoutMs\`), the entry takes:

| field | type | required | default | description |
| --- | --- | --- | --- | --- |
| \`host\` | string | yes |  | Host name or IP address of the peer. |
| \`port\` | integer | yes |  | TCP port of the peer. |
| \`reconnect.minMs\` | integer |  | \`1000\` | First wait before reconnecting, in ms. |
| \`reconnect.maxMs\` | integer |  | \`30000\` | Longest wait between attempts, in ms. |

## What the peer receives

TODO: one message per publish (a JSON array of Readings in the skeleton), how a replayed
(historical) message is marked, and how repeats are told apart (by \`gateway\` and \`seq\`).

## Acknowledgement and reachability

- A publish resolves once the peer acknowledged the message; it rejects when it could not be
  sent or acknowledged, and the gateway keeps the readings in its buffer and sends them again.
- A lost connection reports \`disconnected\` with the reason and reconnects with a doubling delay
  (\`reconnect.minMs\` up to \`reconnect.maxMs\`); \`connected\` once it is back.
- \`stop()\` waits up to 2 s for publishes in flight, then closes the connection.

## Example

[\`example.yaml\`](example.yaml): run it with \`tagbridge run -c example.yaml\`.

## Limits

TODO: what is not supported (TLS, authentication, batching, …).
`;
}

/** `example.yaml`: a gateway config loading the package, one sink and one simulated device. */
export function sinkExampleYaml(n: ScaffoldNames): string {
  return `# A gateway publishing a simulated device to one ${n.type} sink. Run it with
# \`tagbridge run -c example.yaml\` once ${n.packageName} is installed where tagbridge can import it.
version: 1
gateway: ${n.type}-gw
sinks: [${n.packageName}]
north:
  - id: ${n.type}-1
    type: ${n.type}
    host: 127.0.0.1
    port: 1883
devices:
  - id: press-1
    type: simulator
    pollIntervalMs: 1000
    connection: { seed: 7 }
    points:
      - id: force
        type: float64
        unit: kN
        generator: { kind: sine, periodMs: 60000, amplitude: 60, offset: 60 }
`;
}

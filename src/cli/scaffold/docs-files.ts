/** Templates of the generated package's README (the fixed sections) and example config. */
import type { ScaffoldNames } from "./names.js";

/** `README.md` with the sections every tagbridge adapter README has. */
export function readme(n: ScaffoldNames): string {
  return `# ${n.packageName}

tagbridge adapter for ${n.type} devices (adapter type \`${n.type}\`).

## Overview

TODO: what devices and protocol this adapter talks to, and how (polled: the gateway calls
\`read()\` at each point's \`pollIntervalMs\`).

- Capabilities: \`read\`.
- SDK range: \`${n.sdkRange}\` (tagbridge refuses to load the package when its SDK is outside it).

## Configuration

Install the package next to tagbridge (\`npm install ${n.packageName}\`) and name it in the
gateway config, then add devices of \`type: ${n.type}\`:

\`\`\`yaml
adapters: [${n.packageName}]
\`\`\`

A device's \`connection\` object:

| field | type | required | default | description |
| --- | --- | --- | --- | --- |
| \`host\` | string | yes |  | Host name or IP address of the device. |
| \`port\` | integer | yes |  | TCP port of the device. |
| \`timeoutMs\` | integer |  | \`3000\` | How long to wait for the device to answer, in ms. |

Each point has the core point fields (\`id\`, \`type\`, \`unit\`, \`pollIntervalMs\`, \`scale\`, …) and:

| field | type | required | default | description |
| --- | --- | --- | --- | --- |
| \`address\` | string | yes |  | Where the point's value lives on the device. |

## Addressing

TODO: the syntax of \`address\`, with examples.

## Readings produced

- One reading per point and poll; \`protocol\` is \`${n.type}\`. The point's \`type\` comes from
  config; a value that does not fit it becomes \`bad\` / \`TypeMismatch\`.
- An address the device does not know: \`bad\` with the device's status (TODO: list the statuses).
- Device unreachable: the device goes \`disconnected\`, every point reads \`bad\` / \`Disconnected\`,
  and the gateway reconnects with backoff.

## Example

[\`example.yaml\`](example.yaml): run it with \`tagbridge run -c example.yaml\`.

## Limits

TODO: what is not supported (writes, browsing, subscriptions, …).
`;
}

/** `example.yaml`: a gateway config loading the package and one device. */
export function exampleYaml(n: ScaffoldNames): string {
  return `# A gateway with one ${n.type} device. Run it with \`tagbridge run -c example.yaml\`
# once ${n.packageName} is installed where tagbridge can import it.
version: 1
gateway: ${n.type}-gw
adapters: [${n.packageName}]
devices:
  - id: ${n.type}-1
    type: ${n.type}
    pollIntervalMs: 1000
    connection:
      host: 127.0.0.1
      port: 1502
    points:
      - id: temperature
        type: float64
        unit: °C
        address: temp-1
`;
}

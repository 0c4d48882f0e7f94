/**
 * Settings of the simulator adapter, declared once in TypeBox: the device's `connection` object and
 * the `generator` field merged into each point. The README tables are written from these descriptions.
 */
import Type, { type Static } from "typebox";

/** A periodic window during which the simulated device is unreachable. */
export const OutageSchema = Type.Object(
  {
    everyMs: Type.Integer({
      minimum: 1,
      description: "Length of one outage cycle in ms; an outage starts at every multiple of it on the clock.",
    }),
    durationMs: Type.Integer({
      minimum: 0,
      description: "How long each outage lasts, in ms, from the start of the cycle. 0 disables outages.",
    }),
  },
  {
    additionalProperties: false,
    description:
      "Makes start(), read() and write() throw `simulated outage` in a repeating window, to show disconnect and reconnect.",
  },
);

/** The device's `connection` object. */
export const SimulatorConnectionSchema = Type.Object(
  {
    seed: Type.Optional(
      Type.Integer({
        default: 1,
        description:
          "Seed of the pseudo-random generator behind noise and random walks; one seed gives one repeatable run.",
      }),
    ),
    startDelayMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 0,
        description: "Delay before start() resolves, in ms, to simulate a slow connect.",
      }),
    ),
    outage: Type.Optional(OutageSchema),
  },
  { additionalProperties: false, description: "Simulated device: seed, connect delay and outages." },
);

const periodMs = (def: number) =>
  Type.Optional(Type.Integer({ minimum: 1, default: def, description: "Length of one period in ms." }));

const kind = <K extends string>(name: K) =>
  Type.Literal(name, { description: `Generator kind \`${name}\`.` });

/** A sine wave with optional uniform noise. */
export const SineSchema = Type.Object(
  {
    kind: kind("sine"),
    periodMs: periodMs(60_000),
    amplitude: Type.Optional(Type.Number({ default: 1, description: "Peak deviation from `offset`." })),
    offset: Type.Optional(Type.Number({ default: 0, description: "Centre line of the wave." })),
    noise: Type.Optional(
      Type.Number({
        minimum: 0,
        default: 0,
        description: "Uniform random noise added, between -noise and +noise.",
      }),
    ),
  },
  { additionalProperties: false, description: "offset + amplitude * sin(2π t / periodMs), plus noise." },
);

/** A sawtooth from `min` to `max`. */
export const RampSchema = Type.Object(
  {
    kind: kind("ramp"),
    periodMs: periodMs(60_000),
    min: Type.Optional(Type.Number({ default: 0, description: "Value at the start of each period." })),
    max: Type.Optional(
      Type.Number({ default: 100, description: "Value approached at the end of each period." }),
    ),
  },
  {
    additionalProperties: false,
    description: "Rises linearly from min to max over each period, then drops back.",
  },
);

/** A bounded random walk, one step per read. */
export const RandomWalkSchema = Type.Object(
  {
    kind: kind("randomWalk"),
    step: Type.Optional(
      Type.Number({ minimum: 0, default: 1, description: "Largest change per read, up or down." }),
    ),
    min: Type.Optional(Type.Number({ default: 0, description: "Lower bound of the walk." })),
    max: Type.Optional(Type.Number({ default: 100, description: "Upper bound of the walk." })),
    start: Type.Optional(
      Type.Number({ description: "First value; defaults to the midpoint of min and max." }),
    ),
  },
  {
    additionalProperties: false,
    description: "Moves by a random amount in [-step, step] on every read, kept in [min, max].",
  },
);

/** A square wave: low for the first half of each period, high for the second. */
export const SquareSchema = Type.Object(
  {
    kind: kind("square"),
    periodMs: periodMs(2_000),
    low: Type.Optional(
      Type.Number({ default: 0, description: "Numeric points: value in the first half-period." }),
    ),
    high: Type.Optional(
      Type.Number({ default: 1, description: "Numeric points: value in the second half-period." }),
    ),
  },
  { additionalProperties: false, description: "Toggles every half period: false/low, then true/high." },
);

/** A counter, one step per read. */
export const CounterSchema = Type.Object(
  {
    kind: kind("counter"),
    step: Type.Optional(Type.Number({ default: 1, description: "Added on every read." })),
    start: Type.Optional(
      Type.Number({ default: 0, description: "First value, and the value after a wrap." }),
    ),
    wrap: Type.Optional(
      Type.Number({ description: "When the next value would pass this, the counter restarts at `start`." }),
    ),
  },
  { additionalProperties: false, description: "start, start + step, start + 2·step, … on successive reads." },
);

/** A fixed value of any scalar kind. */
export const ConstantSchema = Type.Object(
  {
    kind: kind("constant"),
    value: Type.Union([Type.Number(), Type.Boolean(), Type.String()], {
      description:
        "The value reported: a number, a boolean, or a string (also for string and datetime points).",
    }),
  },
  { additionalProperties: false, description: "Always the same value." },
);

/** A failing sensor. */
export const FaultSchema = Type.Object(
  {
    kind: kind("fault"),
    status: Type.Optional(
      Type.String({
        minLength: 1,
        default: "SensorFault",
        description: "Status reported with every bad sample.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "A failing sensor: always quality bad, value null, with `status`.",
  },
);

/** How a point's values are produced, tagged by `kind`. */
export const GeneratorSchema = Type.Union(
  [SineSchema, RampSchema, RandomWalkSchema, SquareSchema, CounterSchema, ConstantSchema, FaultSchema],
  { description: "How the point's values are produced, chosen by `kind`." },
);

/** The simulator's own point fields, merged flat with the core point fields. */
export const SimulatorPointSchema = Type.Object(
  { generator: GeneratorSchema },
  { additionalProperties: false, description: "Simulator point settings." },
);

/** Validated `connection` settings. */
export type SimulatorSettings = Static<typeof SimulatorConnectionSchema>;
/** A point's generator. */
export type Generator = Static<typeof GeneratorSchema>;
/** The simulator's own point fields. */
export type SimulatorPointFields = Static<typeof SimulatorPointSchema>;
/** The kinds of generator. */
export type GeneratorKind = Generator["kind"];

/** Version of the adapter SDK this build of the core provides; adapters declare a semver range against it. */
export const SDK_VERSION = "1.0.0";

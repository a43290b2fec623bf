/** The version of @gw/core, reported by `/health` unless the app sets its own. */
export const VERSION = '0.1.0'

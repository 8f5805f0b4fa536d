/**
 * How ObjectRefs and ActorHandles cross a serialization boundary. Both are replaced by plain
 * marker objects before V8 serializes the value, and revived after it is deserialized.
 * The keys start with a NUL so no user object can be mistaken for a marker.
 */
export const REF_MARKER = "\u0000tsray.ref";
export const ACTOR_MARKER = "\u0000tsray.actor";

/** Brand on ObjectRef instances (set by the core worker). */
export const OBJECT_REF_BRAND = Symbol.for("tsray.ObjectRef");
/** Set on an ObjectRef once disposed: it can no longer be sent or read. */
export const REF_DISPOSED = Symbol.for("tsray.ObjectRef.disposed");
/** Brand on ActorHandle proxies: reading it returns the handle's plain description. */
export const ACTOR_HANDLE_BRAND = Symbol.for("tsray.ActorHandle");

/** What an actor handle carries between threads and nodes. */
export interface ActorHandleData {
  actorId: string;
  className: string;
  methods: string[];
  /** Per-method default numReturns, from the class's options. */
  maxTaskRetries: number;
}
/** Instances of registered classes (see revivable.ts): `{ [CLASS_MARKER]: tag, state }`. */
export const CLASS_MARKER = "\u0000tsray.class";
/** Instances of classes with a registered serializer (see custom-serializers.ts): `{ [CUSTOM_MARKER]: tag, module?, state }`. */
export const CUSTOM_MARKER = "\u0000tsray.custom";

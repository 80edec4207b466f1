/**
 * Members' identities (issue 20): the token lets a process into the cluster's ports; an identity
 * says which member (node or driver) a call comes from, and no member can speak in another's name.
 * - Every node and driver makes a random credential when it starts (256 bits, never sent but as
 *   metadata of its own calls) and registers its sha256 with the GCS, with its node id. The GCS
 *   keeps that hash for the id from then on (in Redis too, with the node's record) and publishes
 *   it in the cluster view; the head's hash it knows in-process before anyone registers.
 * - Every call a member makes carries its id and credential (`x-ray-ts-node-id`,
 *   `x-ray-ts-node-credential`, added by the client interceptor next to the token).
 * - A server checks them once per call or stream, before the handler runs, against the hash its
 *   directory has for the id (the GCS's table on the head, the cluster view elsewhere), in
 *   constant time, and binds the call to the id (`boundNode`). What each method needs is in one
 *   table, ACCESS: the token only, a member, or the head; a method missing there needs a member.
 * Handlers then check what the bound id may do (a peer batch only in its own name, a node
 * unregisters only itself): cluster-node.ts and gcs-members.ts.
 */
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ignored } from '../log.js';

/** Metadata keys: the caller's node id and credential, and (set by the server only) the id a call is bound to. */
export const NODE_ID_KEY = 'x-ray-ts-node-id';
export const NODE_CREDENTIAL_KEY = 'x-ray-ts-node-credential';
const BOUND_KEY = 'x-ray-ts-bound-node';

/** A member's own identity: its id, its credential (secret) and the credential's hash (published). */
export interface MemberIdentity {
  readonly nodeId: string;
  readonly credential: string;
  readonly credentialSha256: string;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest();

/** A fresh identity for the member `nodeId`: a random 256-bit credential and its hash. */
export function newIdentity(nodeId: string): MemberIdentity {
  const credential = crypto.randomBytes(32).toString('hex');
  return { nodeId, credential, credentialSha256: sha256(credential).toString('hex') };
}

/** Whether `s` is a hash as members publish it (64 hex digits). */
export function isCredentialHash(s: string | undefined): s is string {
  return !!s && /^[0-9a-f]{64}$/.test(s);
}

/** Whether `credential` is the one whose hash is `hash`, in constant time. */
export function credentialMatches(credential: string, hash: string): boolean {
  if (!isCredentialHash(hash)) return false;
  return crypto.timingSafeEqual(sha256(credential), Buffer.from(hash, 'hex'));
}

/** What a call needs of its caller beyond the token. */
export type Access = 'token' | 'member' | 'head';

/**
 * Per method: `token` (readers such as `ray-ts status`, the state API, and calls whose handler
 * checks the identity itself), `member` (a registered node or driver: what changes the cluster),
 * `head` (the GCS's own calls to nodes). Anything not listed needs a member.
 */
export const ACCESS: Readonly<Record<string, Access>> = {
  // RegisterNode and Heartbeat: a node the GCS forgot (restarted without Redis) must reach them;
  // the handlers refuse a known id the call is not bound to (gcs-members.ts).
  '/raytscore.Gcs/RegisterNode': 'token',
  '/raytscore.Gcs/Heartbeat': 'token',
  '/raytscore.Gcs/UnregisterNode': 'member',
  '/raytscore.Gcs/GetClusterView': 'token',
  '/raytscore.Gcs/Subscribe': 'token',
  '/raytscore.Gcs/RegisterJob': 'member',
  '/raytscore.Gcs/FinishJob': 'member',
  '/raytscore.Gcs/ListJobs': 'token',
  '/raytscore.Gcs/RegisterActor': 'member',
  '/raytscore.Gcs/UpdateActor': 'member',
  '/raytscore.Gcs/GetActor': 'token',
  '/raytscore.Gcs/ListActors': 'token',
  '/raytscore.Gcs/KvPut': 'member',
  '/raytscore.Gcs/KvGet': 'token',
  '/raytscore.Gcs/KvDel': 'member',
  '/raytscore.Gcs/KvKeys': 'token',
  '/raytscore.Gcs/CreatePlacementGroup': 'member',
  '/raytscore.Gcs/RemovePlacementGroup': 'member',
  '/raytscore.Gcs/WaitPlacementGroup': 'token',
  '/raytscore.Gcs/GetPlacementGroup': 'token',
  '/raytscore.Gcs/ListPlacementGroups': 'token',
  '/raytscore.Node/Peer': 'member',
  '/raytscore.Node/Pull': 'member',
  '/raytscore.Node/PrepareBundles': 'head',
  '/raytscore.Node/ReturnBundles': 'head',
  '/raytscore.Node/GetState': 'token',
  '/raytscore.Node/Stop': 'head',
  // Logs are read through the head's HTTP API (cluster/log-api.ts), which checks the token.
  '/raytscore.Node/ListLogs': 'head',
  '/raytscore.Node/StreamLog': 'head',
};

/** What a method needs (a member when it is not listed). */
export function accessOf(path: string): Access {
  return ACCESS[path] ?? 'member';
}

/** A live member as a server knows it. */
export interface KnownMember {
  readonly credentialSha256: string;
  readonly isHead: boolean;
}

/** Where a server looks members up: the GCS's table on the head, the cluster view elsewhere. */
export interface MemberDirectory {
  /** The live member `nodeId` (undefined: not a live member, or not yet known here). */
  member(nodeId: string): KnownMember | undefined;
  /** Resolves true once `pred` holds (checked whenever members change), false after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean>;
}

/** Why the identity a call presents does not give it `access` (undefined: it does). */
export function identityProblem(
  directory: MemberDirectory | undefined,
  nodeId: string,
  credential: string,
  access: Access,
): string | undefined {
  const m = directory?.member(nodeId);
  if (!m) return `node ${nodeId} is not a live member of this cluster here`;
  if (!credentialMatches(credential, m.credentialSha256))
    return `the credential presented for node ${nodeId} is not the one that node registered`;
  if (access === 'head' && !m.isHead) return `node ${nodeId} is not the cluster's head`;
  return undefined;
}

/** The message of a refused call: what happened, and who may make it. */
export function refusedMessage(path: string, access: Exclude<Access, 'token'>, why: string): string {
  const method = path.replace(/^\/raytscore\./, '');
  return access === 'head'
    ? `${method} refused: only the cluster's head may call it (${why}).`
    : `${method} refused: only the cluster's nodes and drivers may call it, each in its own name (${why}). ` +
        `Tools that hold only the token (ray-ts status, ray-ts list, the state API) may read the cluster's state; ` +
        `to change it, connect as a driver (init({ address })).`;
}

const text = (md: grpc.Metadata, key: string) => {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
};

/**
 * Checks the identity of every call before its handler runs (after the token's interceptor), and
 * binds the call to it: refuses with PERMISSION_DENIED a call that needs a member (or the head)
 * and presents none, or one this process's directory does not confirm. A presented id the
 * directory does not know yet (a member that joined just now, whose record is still on its way
 * here) is waited for, at most `waitMs`. `directory()` is undefined until the process has one.
 */
export function serverIdentityInterceptor(
  directory: () => MemberDirectory | undefined,
  waitMs: number,
): grpc.ServerInterceptor {
  return (method, call) => {
    const access = accessOf(method.path);
    const refuse = (why: string) => {
      ignored('a gRPC call refused for its member identity, with PERMISSION_DENIED')(
        new Error(`${method.path} from ${call.getPeer()}: ${why}`),
      );
      call.sendStatus({
        code: grpc.status.PERMISSION_DENIED,
        details: refusedMessage(method.path, access as Exclude<Access, 'token'>, why),
        metadata: new grpc.Metadata(),
      });
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const nodeId = text(metadata, NODE_ID_KEY);
        const credential = text(metadata, NODE_CREDENTIAL_KEY);
        // Only this interceptor says whom a call is bound to; the credential goes no further.
        metadata.remove(BOUND_KEY);
        metadata.remove(NODE_CREDENTIAL_KEY);
        const bind = () => {
          metadata.set(BOUND_KEY, nodeId!);
          next(metadata);
        };
        if (!nodeId || !credential) {
          if (access === 'token') next(metadata);
          else refuse('the call carries no member identity');
          return;
        }
        const problem = () => identityProblem(directory(), nodeId, credential, access);
        if (!problem()) return bind();
        if (access === 'token') return next(metadata);
        const d = directory();
        void (d ? d.waitFor(() => !problem(), waitMs) : Promise.resolve(false)).then((ok) => {
          const still = ok ? undefined : problem();
          if (still) refuse(still);
          else bind();
        });
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

/** Adds `identity` (id and credential) to the metadata of every call. */
export function clientIdentityInterceptor(identity: MemberIdentity): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(NODE_ID_KEY, identity.nodeId);
        metadata.set(NODE_CREDENTIAL_KEY, identity.credential);
        next(metadata, listener);
      },
    });
}

/**
 * The member a call was bound to by serverIdentityInterceptor (undefined: it presented no
 * identity, or one not confirmed, on a method that needs only the token).
 */
export function boundNode(call: { metadata?: grpc.Metadata }): string | undefined {
  return call.metadata ? text(call.metadata, BOUND_KEY) : undefined;
}

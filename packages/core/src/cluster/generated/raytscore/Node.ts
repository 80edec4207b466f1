// Original file: proto/node.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BundleRequest as _raytscore_BundleRequest, BundleRequest__Output as _raytscore_BundleRequest__Output } from '../raytscore/BundleRequest.js';
import type { Empty as _raytscore_Empty, Empty__Output as _raytscore_Empty__Output } from '../raytscore/Empty.js';
import type { ListLogsReply as _raytscore_ListLogsReply, ListLogsReply__Output as _raytscore_ListLogsReply__Output } from '../raytscore/ListLogsReply.js';
import type { ListLogsRequest as _raytscore_ListLogsRequest, ListLogsRequest__Output as _raytscore_ListLogsRequest__Output } from '../raytscore/ListLogsRequest.js';
import type { LogChunk as _raytscore_LogChunk, LogChunk__Output as _raytscore_LogChunk__Output } from '../raytscore/LogChunk.js';
import type { ObjectChunk as _raytscore_ObjectChunk, ObjectChunk__Output as _raytscore_ObjectChunk__Output } from '../raytscore/ObjectChunk.js';
import type { PeerBatch as _raytscore_PeerBatch, PeerBatch__Output as _raytscore_PeerBatch__Output } from '../raytscore/PeerBatch.js';
import type { PrepareBundlesReply as _raytscore_PrepareBundlesReply, PrepareBundlesReply__Output as _raytscore_PrepareBundlesReply__Output } from '../raytscore/PrepareBundlesReply.js';
import type { PullRequest as _raytscore_PullRequest, PullRequest__Output as _raytscore_PullRequest__Output } from '../raytscore/PullRequest.js';
import type { StateReply as _raytscore_StateReply, StateReply__Output as _raytscore_StateReply__Output } from '../raytscore/StateReply.js';
import type { StateRequest as _raytscore_StateRequest, StateRequest__Output as _raytscore_StateRequest__Output } from '../raytscore/StateRequest.js';
import type { StreamLogRequest as _raytscore_StreamLogRequest, StreamLogRequest__Output as _raytscore_StreamLogRequest__Output } from '../raytscore/StreamLogRequest.js';

export interface NodeClient extends grpc.Client {
  GetState(argument: _raytscore_StateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  GetState(argument: _raytscore_StateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  GetState(argument: _raytscore_StateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  GetState(argument: _raytscore_StateRequest, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  getState(argument: _raytscore_StateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  getState(argument: _raytscore_StateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  getState(argument: _raytscore_StateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  getState(argument: _raytscore_StateRequest, callback: grpc.requestCallback<_raytscore_StateReply__Output>): grpc.ClientUnaryCall;
  
  ListLogs(argument: _raytscore_ListLogsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  ListLogs(argument: _raytscore_ListLogsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  ListLogs(argument: _raytscore_ListLogsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  ListLogs(argument: _raytscore_ListLogsRequest, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  listLogs(argument: _raytscore_ListLogsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  listLogs(argument: _raytscore_ListLogsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  listLogs(argument: _raytscore_ListLogsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  listLogs(argument: _raytscore_ListLogsRequest, callback: grpc.requestCallback<_raytscore_ListLogsReply__Output>): grpc.ClientUnaryCall;
  
  Peer(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_raytscore_PeerBatch, _raytscore_PeerBatch__Output>;
  Peer(options?: grpc.CallOptions): grpc.ClientDuplexStream<_raytscore_PeerBatch, _raytscore_PeerBatch__Output>;
  peer(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_raytscore_PeerBatch, _raytscore_PeerBatch__Output>;
  peer(options?: grpc.CallOptions): grpc.ClientDuplexStream<_raytscore_PeerBatch, _raytscore_PeerBatch__Output>;
  
  PrepareBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  PrepareBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  PrepareBundles(argument: _raytscore_BundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  PrepareBundles(argument: _raytscore_BundleRequest, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  prepareBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  prepareBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  prepareBundles(argument: _raytscore_BundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  prepareBundles(argument: _raytscore_BundleRequest, callback: grpc.requestCallback<_raytscore_PrepareBundlesReply__Output>): grpc.ClientUnaryCall;
  
  Pull(argument: _raytscore_PullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_ObjectChunk__Output>;
  Pull(argument: _raytscore_PullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_ObjectChunk__Output>;
  pull(argument: _raytscore_PullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_ObjectChunk__Output>;
  pull(argument: _raytscore_PullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_ObjectChunk__Output>;
  
  ReturnBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  ReturnBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  ReturnBundles(argument: _raytscore_BundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  ReturnBundles(argument: _raytscore_BundleRequest, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  returnBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  returnBundles(argument: _raytscore_BundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  returnBundles(argument: _raytscore_BundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  returnBundles(argument: _raytscore_BundleRequest, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  
  Stop(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  Stop(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  Stop(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  Stop(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  stop(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  stop(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  stop(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  stop(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  
  StreamLog(argument: _raytscore_StreamLogRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_LogChunk__Output>;
  StreamLog(argument: _raytscore_StreamLogRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_LogChunk__Output>;
  streamLog(argument: _raytscore_StreamLogRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_LogChunk__Output>;
  streamLog(argument: _raytscore_StreamLogRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_LogChunk__Output>;
  
}

export interface NodeHandlers extends grpc.UntypedServiceImplementation {
  GetState: grpc.handleUnaryCall<_raytscore_StateRequest__Output, _raytscore_StateReply>;
  
  ListLogs: grpc.handleUnaryCall<_raytscore_ListLogsRequest__Output, _raytscore_ListLogsReply>;
  
  Peer: grpc.handleBidiStreamingCall<_raytscore_PeerBatch__Output, _raytscore_PeerBatch>;
  
  PrepareBundles: grpc.handleUnaryCall<_raytscore_BundleRequest__Output, _raytscore_PrepareBundlesReply>;
  
  Pull: grpc.handleServerStreamingCall<_raytscore_PullRequest__Output, _raytscore_ObjectChunk>;
  
  ReturnBundles: grpc.handleUnaryCall<_raytscore_BundleRequest__Output, _raytscore_Empty>;
  
  Stop: grpc.handleUnaryCall<_raytscore_Empty__Output, _raytscore_Empty>;
  
  StreamLog: grpc.handleServerStreamingCall<_raytscore_StreamLogRequest__Output, _raytscore_LogChunk>;
  
}

export interface NodeDefinition extends grpc.ServiceDefinition {
  GetState: MethodDefinition<_raytscore_StateRequest, _raytscore_StateReply, _raytscore_StateRequest__Output, _raytscore_StateReply__Output>
  ListLogs: MethodDefinition<_raytscore_ListLogsRequest, _raytscore_ListLogsReply, _raytscore_ListLogsRequest__Output, _raytscore_ListLogsReply__Output>
  Peer: MethodDefinition<_raytscore_PeerBatch, _raytscore_PeerBatch, _raytscore_PeerBatch__Output, _raytscore_PeerBatch__Output>
  PrepareBundles: MethodDefinition<_raytscore_BundleRequest, _raytscore_PrepareBundlesReply, _raytscore_BundleRequest__Output, _raytscore_PrepareBundlesReply__Output>
  Pull: MethodDefinition<_raytscore_PullRequest, _raytscore_ObjectChunk, _raytscore_PullRequest__Output, _raytscore_ObjectChunk__Output>
  ReturnBundles: MethodDefinition<_raytscore_BundleRequest, _raytscore_Empty, _raytscore_BundleRequest__Output, _raytscore_Empty__Output>
  Stop: MethodDefinition<_raytscore_Empty, _raytscore_Empty, _raytscore_Empty__Output, _raytscore_Empty__Output>
  StreamLog: MethodDefinition<_raytscore_StreamLogRequest, _raytscore_LogChunk, _raytscore_StreamLogRequest__Output, _raytscore_LogChunk__Output>
}

import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ActorCreationSpec as _raytscore_ActorCreationSpec, ActorCreationSpec__Output as _raytscore_ActorCreationSpec__Output } from './raytscore/ActorCreationSpec.js';
import type { ActorOptions as _raytscore_ActorOptions, ActorOptions__Output as _raytscore_ActorOptions__Output } from './raytscore/ActorOptions.js';
import type { ActorTaskSpec as _raytscore_ActorTaskSpec, ActorTaskSpec__Output as _raytscore_ActorTaskSpec__Output } from './raytscore/ActorTaskSpec.js';
import type { Arg as _raytscore_Arg, Arg__Output as _raytscore_Arg__Output } from './raytscore/Arg.js';
import type { Bundle as _raytscore_Bundle, Bundle__Output as _raytscore_Bundle__Output } from './raytscore/Bundle.js';
import type { Empty as _raytscore_Empty, Empty__Output as _raytscore_Empty__Output } from './raytscore/Empty.js';
import type { FnDescriptor as _raytscore_FnDescriptor, FnDescriptor__Output as _raytscore_FnDescriptor__Output } from './raytscore/FnDescriptor.js';
import type { FnRef as _raytscore_FnRef, FnRef__Output as _raytscore_FnRef__Output } from './raytscore/FnRef.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from './raytscore/RefOwners.js';
import type { SchedulingStrategy as _raytscore_SchedulingStrategy, SchedulingStrategy__Output as _raytscore_SchedulingStrategy__Output } from './raytscore/SchedulingStrategy.js';
import type { TaskSpec as _raytscore_TaskSpec, TaskSpec__Output as _raytscore_TaskSpec__Output } from './raytscore/TaskSpec.js';
import type { Value as _raytscore_Value, Value__Output as _raytscore_Value__Output } from './raytscore/Value.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raytscore: {
    ActorCreationSpec: MessageTypeDefinition<_raytscore_ActorCreationSpec, _raytscore_ActorCreationSpec__Output>
    ActorOptions: MessageTypeDefinition<_raytscore_ActorOptions, _raytscore_ActorOptions__Output>
    ActorTaskSpec: MessageTypeDefinition<_raytscore_ActorTaskSpec, _raytscore_ActorTaskSpec__Output>
    Arg: MessageTypeDefinition<_raytscore_Arg, _raytscore_Arg__Output>
    Bundle: MessageTypeDefinition<_raytscore_Bundle, _raytscore_Bundle__Output>
    Empty: MessageTypeDefinition<_raytscore_Empty, _raytscore_Empty__Output>
    FnDescriptor: MessageTypeDefinition<_raytscore_FnDescriptor, _raytscore_FnDescriptor__Output>
    FnRef: MessageTypeDefinition<_raytscore_FnRef, _raytscore_FnRef__Output>
    RefOwners: MessageTypeDefinition<_raytscore_RefOwners, _raytscore_RefOwners__Output>
    SchedulingStrategy: MessageTypeDefinition<_raytscore_SchedulingStrategy, _raytscore_SchedulingStrategy__Output>
    TaskSpec: MessageTypeDefinition<_raytscore_TaskSpec, _raytscore_TaskSpec__Output>
    Value: MessageTypeDefinition<_raytscore_Value, _raytscore_Value__Output>
  }
}


// Original file: proto/common.proto


export interface FnDescriptor {
  'kind'?: (string);
  'url'?: (string);
  'key'?: (string);
  'name'?: (string);
  'isClass'?: (boolean);
  'source'?: (string);
  'origin'?: (string);
  'packageUri'?: (string);
  'packagePath'?: (string);
}

export interface FnDescriptor__Output {
  'kind': (string);
  'url': (string);
  'key': (string);
  'name': (string);
  'isClass': (boolean);
  'source': (string);
  'origin': (string);
  'packageUri': (string);
  'packagePath': (string);
}

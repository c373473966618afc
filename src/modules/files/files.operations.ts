import { defineOperation } from '../../operations/operation.js';
import {
  FilesDeleteInput,
  FilesDeleteResult,
  FilesEditInput,
  FilesEditResult,
  FilesListInput,
  FilesListResult,
  FilesMkdirInput,
  FilesMkdirResult,
  FilesMoveInput,
  FilesMoveResult,
  FilesReadInput,
  FilesReadResult,
  FilesSearchInput,
  FilesSearchResult,
  FilesStatInput,
  FilesStatResult,
  FilesWriteInput,
  FilesWriteResult,
} from './dto/files.dto.js';
import { FilesService } from './files.service.js';

export const filesList = defineOperation({
  id: 'files_list',
  area: 'files',
  method: 'GET',
  path: '/files/list',
  scope: 'read',
  summary: 'List a directory',
  description: "Lists a directory's entries with type, size and modification time.",
  input: FilesListInput,
  output: FilesListResult,
  service: FilesService,
  idempotent: true,
});

export const filesRead = defineOperation({
  id: 'files_read',
  area: 'files',
  method: 'GET',
  path: '/files/read',
  scope: 'read',
  summary: 'Read a file (paged)',
  description: 'Reads a file page by page: content, size_bytes, next_offset, sha256.',
  input: FilesReadInput,
  output: FilesReadResult,
  service: FilesService,
  idempotent: true,
});

export const filesStat = defineOperation({
  id: 'files_stat',
  area: 'files',
  method: 'GET',
  path: '/files/stat',
  scope: 'read',
  summary: 'Describe a file or directory',
  description: 'Type, size and modification time of a path (404 if missing).',
  input: FilesStatInput,
  output: FilesStatResult,
  service: FilesService,
  idempotent: true,
});

export const filesSearch = defineOperation({
  id: 'files_search',
  area: 'files',
  method: 'GET',
  path: '/files/search',
  scope: 'read',
  summary: 'Find files by name pattern',
  description: 'Finds files by name under a directory.',
  input: FilesSearchInput,
  output: FilesSearchResult,
  service: FilesService,
  idempotent: true,
});

export const filesWrite = defineOperation({
  id: 'files_write',
  area: 'files',
  method: 'POST',
  path: '/files/write',
  scope: 'write',
  summary: 'Create or replace a file',
  description: 'Writes a whole file atomically, creating or replacing it. To change part of a text file use files_edit.',
  input: FilesWriteInput,
  output: FilesWriteResult,
  service: FilesService,
  // It replaces whatever the file held; writing the same content again changes nothing more.
  destructive: true,
  idempotent: true,
});

export const filesEdit = defineOperation({
  id: 'files_edit',
  area: 'files',
  method: 'POST',
  path: '/files/edit',
  scope: 'write',
  summary: 'Edit a text file by replacing exact text',
  description: 'Edits a text file by exact replacements and returns the diff. Use it for "set temperature to 0.6 in that Modelfile".',
  input: FilesEditInput,
  output: FilesEditResult,
  service: FilesService,
  destructive: true,
});

export const filesMkdir = defineOperation({
  id: 'files_mkdir',
  area: 'files',
  method: 'POST',
  path: '/files/mkdir',
  scope: 'write',
  summary: 'Create a directory',
  description: 'Creates a directory and any missing parents (mkdir -p).',
  input: FilesMkdirInput,
  output: FilesMkdirResult,
  service: FilesService,
  idempotent: true,
});

export const filesMove = defineOperation({
  id: 'files_move',
  area: 'files',
  method: 'POST',
  path: '/files/move',
  scope: 'write',
  summary: 'Move or rename a file or directory',
  description: 'Moves or renames a file or directory.',
  input: FilesMoveInput,
  output: FilesMoveResult,
  service: FilesService,
  destructive: true,
});

export const filesDelete = defineOperation({
  id: 'files_delete',
  area: 'files',
  method: 'POST',
  path: '/files/delete',
  scope: 'write',
  summary: 'Delete a file or directory',
  description: 'Deletes a file or symlink, or a directory with recursive: true. Cannot be undone.',
  input: FilesDeleteInput,
  output: FilesDeleteResult,
  service: FilesService,
  destructive: true,
});

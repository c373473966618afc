/**
 * nvidia-smi-failures.ts: each captured failure (test/fixtures/nvidia-smi/errors) gets a 503 that names the
 * host, quotes the remote's first meaningful line and says what to do.
 */
import { describe, expect, it } from 'vitest';
import { QueryFieldRefused, classifyNvidiaSmiFailure } from '../../src/modules/gpu/nvidia-smi-failures.js';
import { FIX, readFixture } from '../support/nvidia-smi-output.js';

const errorFile = (file: string) => readFixture(FIX, 'errors', file);
const firstLine = (file: string) => errorFile(file).split('\n')[0];

describe('classifyNvidiaSmiFailure', () => {
  it('driver not loaded (exit 9, message on stdout): the whole message', () => {
    const err = classifyNvidiaSmiFailure('whisper', errorFile('driver-not-loaded.stdout.txt'), '', 9);
    expect(err.status).toBe(503);
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toBe(
      `nvidia-smi on host 'whisper' failed: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."; make sure the NVIDIA driver is installed and loaded (\`lsmod | grep nvidia\`; after installing or upgrading it, reboot or load the module with \`modprobe nvidia\`) (exit code 9).`,
    );
  });

  it.each(['command-not-found.dash-sh-c.stderr.txt', 'command-not-found.bash-c.stderr.txt', 'command-not-found.bash.stderr.txt'])(
    'nvidia-smi missing: %s',
    (file) => {
      const err = classifyNvidiaSmiFailure('whisper', '', `${firstLine(file)}\n`, 127);
      expect(err.code).toBe('GPU_UNAVAILABLE');
      expect(err.message).toContain(`nvidia-smi on host 'whisper' failed: "${firstLine(file)}"`);
      expect(err.message).toContain('install the NVIDIA driver');
      expect(err.message).toContain('nvidia_smi_path');
      expect(err.message).toContain('(exit code 127)');
    },
  );

  it('"not found" words are enough when the exit code is lost', () => {
    const err = classifyNvidiaSmiFailure('whisper', '', 'sh: 1: nvidia-smi: not found\n', null);
    expect(err.message).toContain('not on the PATH');
    expect(err.message).not.toContain('exit code');
  });

  it('names the account and both spellings of the setting, and speaks of SSH only for an ssh host', () => {
    const missing = (transport: 'ssh' | 'local') =>
      classifyNvidiaSmiFailure('whisper', '', 'sh: 1: nvidia-smi: not found\n', 127, 'gpu', undefined, transport);
    expect(missing('ssh').message).toContain('not on the PATH of the SSH account');
    expect(missing('ssh').message).toContain("NVIDIA_SMI_PATH (YAML: the host's nvidia_smi_path)");
    expect(missing('local').message).toContain('not on the PATH of the account gpu-host-tools runs as');
    expect(missing('local').message).not.toMatch(/ssh/i);
    const denied = classifyNvidiaSmiFailure('local', '', 'sh: 1: /opt/nv/nvidia-smi: Permission denied\n', 126, 'gpu', undefined, 'local');
    expect(denied.message).toContain('NVIDIA_SMI_PATH / nvidia_smi_path');
    expect(denied.message).toContain('cannot be executed by the account gpu-host-tools runs as');
    expect(denied.message).not.toMatch(/ssh/i);
  });

  it.each([
    ['nvml-driver-library-mismatch.txt', 18, '"Failed to initialize NVML: Driver/library version mismatch"', 'reboot the host'],
    ['nvml-unknown-error.txt', 255, '"Failed to initialize NVML: Unknown Error"', 'NVIDIA Container Toolkit'],
    ['no-devices-found.txt', 6, '"No devices were found"', 'lspci'],
    ['invalid-query-field.txt', 2, '"Field "cuda_version" is not a valid field to query."', 'does not know a field'],
  ])('%s (exit %d): quotes %s and advises %j', (file, exitCode, quote, advice) => {
    const err = classifyNvidiaSmiFailure('whisper', errorFile(file), '', exitCode);
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toContain(quote);
    expect(err.message).toContain(advice);
    expect(err.message).toContain(`(exit code ${exitCode})`);
  });

  it('a refused GPU field says which one (so the service can drop it); a refused process field cannot be dropped', () => {
    const gpu = classifyNvidiaSmiFailure('whisper', errorFile('invalid-query-field.txt'), '', 2, 'gpu');
    expect(gpu).toBeInstanceOf(QueryFieldRefused);
    expect((gpu as QueryFieldRefused).field).toBe('cuda_version');
    const apps = classifyNvidiaSmiFailure('whisper', errorFile('invalid-query-field.txt'), '', 2, 'apps');
    expect(apps).not.toBeInstanceOf(QueryFieldRefused);
    expect(apps.message).toContain('the process query asks for (gpu_uuid,pid,process_name,used_memory)');
  });

  it('an unknown failure: quotes stderr before stdout, skips marker lines and blank lines, clips a huge line', () => {
    const err = classifyNvidiaSmiFailure('whisper', 'stdout words\n', `@@gpu-host-tools:begin:gpu@@\n\n  ${'x'.repeat(5000)}\n`, 3);
    expect(err.message).toContain('the GPU query did not succeed');
    expect(err.message).not.toContain('stdout words');
    expect(err.message).not.toContain('@@gpu-host-tools');
    expect(err.message.length).toBeLessThan(600);
  });

  it('nothing printed at all says so', () => {
    expect(classifyNvidiaSmiFailure('whisper', '', '', 1).message).toContain(
      "nvidia-smi on host 'whisper' failed without printing anything",
    );
  });
});

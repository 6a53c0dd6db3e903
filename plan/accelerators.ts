/**
 * Dense BF16 peak throughput of common training accelerators: the denominator of MFU.
 *
 * Vendors print tensor-core figures "with sparsity" (2:4 structured sparsity, twice the dense
 * rate); training runs dense, so every figure here is the dense one (half the sparse figure where
 * the datasheet gives only that). Each entry names the datasheet or product page it comes from.
 * Power is the board's maximum (TDP/TBP) from the same page: a GPU-only upper bound that excludes
 * host CPUs, networking and cooling (PUE covers the building, not the rest of the node).
 */

/** One accelerator: dense BF16 peak, board power and where both come from. */
export interface Accelerator {
  /** Key used on the command line, e.g. `h100-sxm`. */
  id: string;
  /** Vendor and product name. */
  name: string;
  /** Dense (no sparsity) BF16 tensor peak, FLOP/s. */
  peakFlops: number;
  /** Maximum board power in watts; undefined where the vendor publishes none per chip. */
  powerW?: number;
  /** Datasheet or product page the figures come from. */
  source: string;
  /** How the figure was read off the source (e.g. "1,979 TFLOPS with sparsity / 2"). */
  note: string;
}

const T = 1e12;

/** The table, in rough order of release. */
export const ACCELERATORS: readonly Accelerator[] = [
  {
    id: 'a100-sxm', name: 'NVIDIA A100 SXM4 80GB', peakFlops: 312 * T, powerW: 400,
    source: 'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
    note: 'BF16 Tensor Core 312 TFLOPS dense (624 with sparsity); 400 W TDP',
  },
  {
    id: 'a100-pcie', name: 'NVIDIA A100 PCIe 80GB', peakFlops: 312 * T, powerW: 300,
    source: 'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
    note: 'BF16 Tensor Core 312 TFLOPS dense (624 with sparsity); 300 W TDP',
  },
  {
    id: 'h100-sxm', name: 'NVIDIA H100 SXM5 80GB', peakFlops: 989.4 * T, powerW: 700,
    source: 'https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet',
    note: 'BF16 Tensor Core 1,979 TFLOPS with sparsity / 2 = 989.4 dense; up to 700 W',
  },
  {
    id: 'h100-pcie', name: 'NVIDIA H100 PCIe 80GB', peakFlops: 756 * T, powerW: 350,
    source: 'https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet',
    note: 'BF16 Tensor Core 1,513 TFLOPS with sparsity / 2 = 756 dense; 300-350 W',
  },
  {
    id: 'h200-sxm', name: 'NVIDIA H200 SXM 141GB', peakFlops: 989.4 * T, powerW: 700,
    source: 'https://www.nvidia.com/en-us/data-center/h200/',
    note: 'BF16 Tensor Core 1,979 TFLOPS with sparsity / 2 = 989.4 dense (same compute as H100 SXM); up to 700 W',
  },
  {
    id: 'b200', name: 'NVIDIA B200 (HGX B200)', peakFlops: 2250 * T, powerW: 1000,
    source: 'https://www.nvidia.com/en-us/data-center/hgx/',
    note: 'HGX B200 FP16/BF16 36 PFLOPS with sparsity per 8 GPUs = 4.5 per GPU / 2 = 2.25 PFLOPS dense; 1,000 W',
  },
  {
    id: 'gb200', name: 'NVIDIA GB200 NVL72 (per Blackwell GPU)', peakFlops: 2500 * T, powerW: 1200,
    source: 'https://www.nvidia.com/en-us/data-center/gb200-nvl72/',
    note: 'NVL72 FP16/BF16 360 PFLOPS with sparsity / 72 GPUs / 2 = 2.5 PFLOPS dense; ~1,200 W per GPU',
  },
  {
    id: 'l40s', name: 'NVIDIA L40S', peakFlops: 362.05 * T, powerW: 350,
    source: 'https://www.nvidia.com/en-us/data-center/l40s/',
    note: 'BF16 Tensor Core 733 TFLOPS with sparsity / 2 = 362 dense; 350 W',
  },
  {
    id: 'l4', name: 'NVIDIA L4', peakFlops: 121 * T, powerW: 72,
    source: 'https://www.nvidia.com/en-us/data-center/l4/',
    note: 'BF16 Tensor Core 242 TFLOPS with sparsity / 2 = 121 dense; 72 W',
  },
  {
    id: 'mi250x', name: 'AMD Instinct MI250X', peakFlops: 383 * T, powerW: 560,
    source: 'https://www.amd.com/en/products/accelerators/instinct/mi200/mi250x.html',
    note: 'Peak BF16 383 TFLOPS (dense); 560 W',
  },
  {
    id: 'mi300x', name: 'AMD Instinct MI300X', peakFlops: 1307.4 * T, powerW: 750,
    source: 'https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html',
    note: 'Peak BF16 1,307.4 TFLOPS dense (2,614.9 with sparsity); 750 W',
  },
  {
    id: 'mi325x', name: 'AMD Instinct MI325X', peakFlops: 1307.4 * T, powerW: 1000,
    source: 'https://www.amd.com/en/products/accelerators/instinct/mi300/mi325x.html',
    note: 'Peak BF16 1,307.4 TFLOPS dense (2,614.9 with sparsity); 1,000 W',
  },
  {
    id: 'tpu-v4', name: 'Google Cloud TPU v4 (per chip)', peakFlops: 275 * T,
    source: 'https://cloud.google.com/tpu/docs/v4',
    note: 'Peak compute per chip 275 TFLOPS (bf16); no per-chip power published: pass --power',
  },
  {
    id: 'tpu-v5e', name: 'Google Cloud TPU v5e (per chip)', peakFlops: 197 * T,
    source: 'https://cloud.google.com/tpu/docs/v5e',
    note: 'Peak compute per chip 197 TFLOPS (bf16); no per-chip power published: pass --power',
  },
  {
    id: 'tpu-v5p', name: 'Google Cloud TPU v5p (per chip)', peakFlops: 459 * T,
    source: 'https://cloud.google.com/tpu/docs/v5p',
    note: 'Peak compute per chip 459 TFLOPS (bf16); no per-chip power published: pass --power',
  },
  {
    id: 'tpu-v6e', name: 'Google Cloud TPU v6e Trillium (per chip)', peakFlops: 918 * T,
    source: 'https://cloud.google.com/tpu/docs/v6e',
    note: 'Peak compute per chip 918 TFLOPS (bf16); no per-chip power published: pass --power',
  },
  {
    id: 'gaudi3', name: 'Intel Gaudi 3 (OAM)', peakFlops: 1835 * T, powerW: 900,
    source: 'https://www.intel.com/content/www/us/en/products/details/processors/ai-accelerators/gaudi3.html',
    note: 'BF16 matrix 1,835 TFLOPS; 900 W (OAM, air-cooled)',
  },
];

/** Short names accepted for the common parts. */
const ALIASES: Record<string, string> = {
  a100: 'a100-sxm',
  h100: 'h100-sxm',
  h200: 'h200-sxm',
  'b200-sxm': 'b200',
  'gb200-nvl72': 'gb200',
};

/**
 * Looks an accelerator up by id or alias (`h100` = `h100-sxm`, `a100` = `a100-sxm`,
 * `h200` = `h200-sxm`), case-insensitively. Throws naming the known ids when it is unknown.
 */
export function accelerator(id: string): Accelerator {
  const key = id.trim().toLowerCase();
  const found = ACCELERATORS.find((a) => a.id === (ALIASES[key] ?? key));
  if (!found) {
    throw new Error(`unknown accelerator '${id}': known are ${ACCELERATORS.map((a) => a.id).join(', ')} (aliases ${Object.keys(ALIASES).join(', ')}); or give --peak-flops`);
  }
  return found;
}

// The block builder of each architecture (they import kernels, so they are listed apart from
// index.ts's config rules and weight tables, which the page imports without any kernel).
import type { ArchName } from './common';
import type { BlockBuilder } from './program';
import { buildLlamaBlock } from './llama_block';
import { buildGpt2Block } from './gpt2_block';

export const BLOCKS: Record<ArchName, BlockBuilder> = {
  llama: buildLlamaBlock,
  gpt2: buildGpt2Block,
};

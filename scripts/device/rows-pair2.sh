# The second command of the rows-pair.sh lease (run right after it, on the warm machine): batched
# decode on Llama-3.2-1B shapes with both bundles, then Mistral-7B int8 prefill of 512 and 1,900
# tokens with the tensor-core tiles (auto) and without (off).
source "$(dirname "$0")/setup.sh"
el batch llama default
timeout 100 $N app.mjs --batch 1,4,16 --model synthetic:llama-3.2-1b --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 2 --json $OUT/batch-llama-3.2-1b.json 2>&1 | grep "^\[batch\]\|B=" | tail -12
el batch llama pair+bits
timeout 70 $N app-pm.mjs --batch 1,4,16 --model synthetic:llama-3.2-1b --engines int8 --prompt-tokens 128 --new-tokens 64 --runs 2 --json $OUT/batch-llama-3.2-1b-pm.json 2>&1 | grep "^\[batch\]\|B=" | tail -12
el prefill
timeout 80 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512,1900 --new-tokens 4 --runs 2 --json $OUT/prefill-auto.json 2>&1 | grep "^\[bench\]" | tail -4
timeout 60 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512 --new-tokens 4 --runs 2 --w8a8 off --json $OUT/prefill-off.json 2>&1 | grep "^\[bench\]" | tail -4
el done

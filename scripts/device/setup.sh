# Sourced by the device scripts on the GPU machine (inside .gpu, as prepare.sh leaves it):
# unpacks node, Dawn and the Vulkan loader once, points Vulkan at the NVIDIA driver, sets N.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x /tmp/node ]; then
  for f in "$here"/deb/*.deb; do dpkg -x "$f" /; done; ldconfig
  xz -dc "$here/node.xz" > /tmp/node && chmod +x /tmp/node
fi
# Dawn per copy of .gpu (each call brings a fresh one; the machine may keep /tmp/node between calls).
dawn="$here/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -s "$dawn" ] || xz -dc "$here/node_modules/webgpu/dawn.node.xz" > "$dawn"
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export VK_ICD_FILENAMES=$VK_DRIVER_FILES
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export XDG_RUNTIME_DIR=/tmp
N=/tmp/node
cd "$here"
t0=$(date +%s); el() { echo "== $(( $(date +%s) - t0 )) s: $*"; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader

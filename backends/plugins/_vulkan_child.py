"""Vulkan probe, run as a child process: ``python _vulkan_child.py LIBVULKAN...``.

Opens the Vulkan loader with cffi in ABI mode, creates an instance, and reports each physical
device: name, type (discrete/integrated/virtual/cpu/other), vendor and device ids, API and
driver versions (plus driver name/info on Vulkan 1.2+), memory heaps (with the budget when
``VK_EXT_memory_budget`` is there) and the extensions ggml's Vulkan backend cares about.
Prints one JSON line.

Only the leading fields of ``VkPhysicalDeviceProperties`` are declared; the driver writes the
whole struct into a buffer much larger than it, so its long tail (limits) needs no declaration.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from cffi import FFI

CDEF = """
typedef struct VkInstance_T *VkInstance;
typedef struct VkPhysicalDevice_T *VkPhysicalDevice;
typedef int32_t VkResult;
typedef struct {
    uint32_t sType; const void *pNext; const char *pApplicationName; uint32_t applicationVersion;
    const char *pEngineName; uint32_t engineVersion; uint32_t apiVersion;
} VkApplicationInfo;
typedef struct {
    uint32_t sType; const void *pNext; uint32_t flags; const VkApplicationInfo *pApplicationInfo;
    uint32_t enabledLayerCount; const char *const *ppEnabledLayerNames;
    uint32_t enabledExtensionCount; const char *const *ppEnabledExtensionNames;
} VkInstanceCreateInfo;
typedef struct {
    uint32_t apiVersion; uint32_t driverVersion; uint32_t vendorID; uint32_t deviceID;
    int32_t deviceType; char deviceName[256]; uint8_t pipelineCacheUUID[16];
} VkPhysicalDevicePropertiesHead;
typedef struct { uint32_t sType; void *pNext; VkPhysicalDevicePropertiesHead properties; }
    VkPhysicalDeviceProperties2Head;
typedef struct {
    uint32_t sType; void *pNext; int32_t driverID; char driverName[256]; char driverInfo[256];
    uint8_t conformanceVersion[4];
} VkPhysicalDeviceDriverProperties;
typedef struct { uint32_t propertyFlags; uint32_t heapIndex; } VkMemoryType;
typedef struct { uint64_t size; uint32_t flags; } VkMemoryHeap;
typedef struct {
    uint32_t memoryTypeCount; VkMemoryType memoryTypes[32];
    uint32_t memoryHeapCount; VkMemoryHeap memoryHeaps[16];
} VkPhysicalDeviceMemoryProperties;
typedef struct { uint32_t sType; void *pNext; VkPhysicalDeviceMemoryProperties memoryProperties; }
    VkPhysicalDeviceMemoryProperties2;
typedef struct { uint32_t sType; void *pNext; uint64_t heapBudget[16]; uint64_t heapUsage[16]; }
    VkPhysicalDeviceMemoryBudgetPropertiesEXT;
typedef struct { char extensionName[256]; uint32_t specVersion; } VkExtensionProperties;

VkResult vkEnumerateInstanceVersion(uint32_t *pApiVersion);
VkResult vkCreateInstance(const VkInstanceCreateInfo *pCreateInfo, const void *pAllocator,
                          VkInstance *pInstance);
void vkDestroyInstance(VkInstance instance, const void *pAllocator);
VkResult vkEnumeratePhysicalDevices(VkInstance instance, uint32_t *pCount,
                                    VkPhysicalDevice *pDevices);
void vkGetPhysicalDeviceProperties(VkPhysicalDevice dev, VkPhysicalDevicePropertiesHead *p);
void vkGetPhysicalDeviceProperties2(VkPhysicalDevice dev, VkPhysicalDeviceProperties2Head *p);
void vkGetPhysicalDeviceMemoryProperties(VkPhysicalDevice dev,
                                         VkPhysicalDeviceMemoryProperties *p);
void vkGetPhysicalDeviceMemoryProperties2(VkPhysicalDevice dev,
                                          VkPhysicalDeviceMemoryProperties2 *p);
VkResult vkEnumerateDeviceExtensionProperties(VkPhysicalDevice dev, const char *pLayerName,
                                              uint32_t *pCount, VkExtensionProperties *p);
"""
ST_APPLICATION_INFO, ST_INSTANCE_CREATE_INFO = 0, 1
ST_PROPERTIES_2, ST_MEMORY_PROPERTIES_2 = 1000059001, 1000059006
ST_DRIVER_PROPERTIES, ST_MEMORY_BUDGET = 1000196000, 1000237000
HEAP_DEVICE_LOCAL = 0x1
PROPERTIES_BUFFER = 4096  # >= sizeof(VkPhysicalDeviceProperties2), which is about 840 bytes
VK_RESULTS = {-1: "VK_ERROR_OUT_OF_HOST_MEMORY", -2: "VK_ERROR_OUT_OF_DEVICE_MEMORY",
              -3: "VK_ERROR_INITIALIZATION_FAILED", -6: "VK_ERROR_LAYER_NOT_PRESENT",
              -7: "VK_ERROR_EXTENSION_NOT_PRESENT",
              -9: "VK_ERROR_INCOMPATIBLE_DRIVER: no installed Vulkan driver (ICD) loads"}
DEVICE_TYPES = {0: "other", 1: "integrated", 2: "discrete", 3: "virtual", 4: "cpu"}
#: Extensions ggml's Vulkan backend uses when present.
FEATURE_EXTENSIONS = (
    "VK_KHR_16bit_storage", "VK_KHR_shader_float16_int8", "VK_KHR_shader_integer_dot_product",
    "VK_KHR_cooperative_matrix", "VK_NV_cooperative_matrix2", "VK_EXT_subgroup_size_control",
    "VK_KHR_maintenance4", "VK_EXT_memory_budget", "VK_KHR_shader_bfloat16",
)


def version(v: int) -> str:
    return f"{v >> 22 & 0x7F}.{v >> 12 & 0x3FF}.{v & 0xFFF}"


def driver_version(v: int, vendor: int) -> str:
    if vendor == 0x10DE:  # NVIDIA packs 10.8.8.6 bits
        return f"{v >> 22 & 0x3FF}.{v >> 14 & 0xFF}.{v >> 6 & 0xFF}.{v & 0x3F}"
    return version(v)  # Mesa and most others use the API version layout


class Vulkan:
    def __init__(self, path: str) -> None:
        self.ffi = FFI()
        self.ffi.cdef(CDEF)
        self.lib: Any = self.ffi.dlopen(path)
        self.path = path
        try:
            v = self.ffi.new("uint32_t *")
            self.instance_version = v[0] if self.lib.vkEnumerateInstanceVersion(v) == 0 else 0
        except AttributeError:  # a Vulkan 1.0 loader
            self.instance_version = 0
        self.instance_version = self.instance_version or (1 << 22)

    def create_instance(self) -> Any:
        app = self.ffi.new("VkApplicationInfo *")
        app.sType = ST_APPLICATION_INFO
        name = self.ffi.new("char[]", b"llmrt-probe")
        app.pApplicationName = name
        app.apiVersion = min(self.instance_version, (1 << 22) | (3 << 12))
        info = self.ffi.new("VkInstanceCreateInfo *")
        info.sType = ST_INSTANCE_CREATE_INFO
        info.pApplicationInfo = app
        instance = self.ffi.new("VkInstance *")
        rc = self.lib.vkCreateInstance(info, self.ffi.NULL, instance)
        if rc != 0:
            raise RuntimeError(f"vkCreateInstance failed: {VK_RESULTS.get(rc, 'VkResult')} ({rc})")
        return instance[0]

    def physical_devices(self, instance: Any) -> list[Any]:
        count = self.ffi.new("uint32_t *")
        self.lib.vkEnumeratePhysicalDevices(instance, count, self.ffi.NULL)
        devices = self.ffi.new("VkPhysicalDevice[]", count[0])
        rc = self.lib.vkEnumeratePhysicalDevices(instance, count, devices)
        if rc not in (0, 5):  # VK_SUCCESS, VK_INCOMPLETE
            name = VK_RESULTS.get(rc, "VkResult")
            raise RuntimeError(f"vkEnumeratePhysicalDevices failed: {name} ({rc})")
        return [devices[i] for i in range(count[0])]

    def extensions(self, dev: Any) -> set[str]:
        count = self.ffi.new("uint32_t *")
        self.lib.vkEnumerateDeviceExtensionProperties(dev, self.ffi.NULL, count, self.ffi.NULL)
        props = self.ffi.new("VkExtensionProperties[]", count[0])
        self.lib.vkEnumerateDeviceExtensionProperties(dev, self.ffi.NULL, count, props)
        return {self.ffi.string(props[i].extensionName).decode() for i in range(count[0])}

    def describe(self, index: int, dev: Any) -> dict[str, Any]:
        ffi = self.ffi
        buf = ffi.new("char[]", PROPERTIES_BUFFER)
        head = ffi.cast("VkPhysicalDevicePropertiesHead *", buf)
        self.lib.vkGetPhysicalDeviceProperties(dev, head)
        api = head.apiVersion
        exts = self.extensions(dev)
        out: dict[str, Any] = {
            "index": index, "name": ffi.string(head.deviceName).decode("utf-8", "replace"),
            "type": DEVICE_TYPES.get(head.deviceType, "other"), "api_version": version(api),
            "driver_version": driver_version(head.driverVersion, head.vendorID),
            "vendor_id": f"0x{head.vendorID:04x}", "device_id": f"0x{head.deviceID:04x}",
            "extensions": sorted(e for e in FEATURE_EXTENSIONS if e in exts),
        }
        modern = api >= (1 << 22 | 1 << 12) and self.instance_version >= (1 << 22 | 1 << 12)
        if modern and api >= (1 << 22 | 2 << 12):
            driver = ffi.new("VkPhysicalDeviceDriverProperties *")
            driver.sType = ST_DRIVER_PROPERTIES
            buf2 = ffi.new("char[]", PROPERTIES_BUFFER)
            props2 = ffi.cast("VkPhysicalDeviceProperties2Head *", buf2)
            props2.sType = ST_PROPERTIES_2
            props2.pNext = driver
            self.lib.vkGetPhysicalDeviceProperties2(dev, props2)
            out["driver_name"] = ffi.string(driver.driverName).decode("utf-8", "replace")
            out["driver_info"] = ffi.string(driver.driverInfo).decode("utf-8", "replace")
        out["heaps"] = self.heaps(dev, budget=modern and "VK_EXT_memory_budget" in exts)
        return out

    def heaps(self, dev: Any, budget: bool) -> list[dict[str, Any]]:
        ffi = self.ffi
        mem2 = ffi.new("VkPhysicalDeviceMemoryProperties2 *")
        mem2.sType = ST_MEMORY_PROPERTIES_2
        bud = ffi.new("VkPhysicalDeviceMemoryBudgetPropertiesEXT *")
        if budget:
            bud.sType = ST_MEMORY_BUDGET
            mem2.pNext = bud
            self.lib.vkGetPhysicalDeviceMemoryProperties2(dev, mem2)
        else:
            self.lib.vkGetPhysicalDeviceMemoryProperties(dev, ffi.addressof(mem2,
                                                                            "memoryProperties"))
        mp = mem2.memoryProperties
        heaps = []
        for i in range(mp.memoryHeapCount):
            heap = {"size": int(mp.memoryHeaps[i].size),
                    "device_local": bool(mp.memoryHeaps[i].flags & HEAP_DEVICE_LOCAL)}
            if budget:
                heap["budget"] = int(bud.heapBudget[i])
                heap["usage"] = int(bud.heapUsage[i])
            heaps.append(heap)
        return heaps


def probe(libraries: list[str]) -> dict[str, Any]:
    vk, errors = None, []
    for candidate in libraries:
        try:
            vk = Vulkan(candidate)
            break
        except OSError as exc:
            errors.append(_dlopen_error(exc))
    if vk is None:
        return {"ok": False, "reason": not_found("Vulkan loader", libraries, errors)}
    try:
        instance = vk.create_instance()
    except (RuntimeError, AttributeError) as exc:
        return {"ok": False, "library": vk.path, "reason": f"{vk.path}: {exc}"}
    try:
        devices = [vk.describe(i, d) for i, d in enumerate(vk.physical_devices(instance))]
    finally:
        vk.lib.vkDestroyInstance(instance, vk.ffi.NULL)
    return {"ok": True, "library": vk.path, "instance_version": version(vk.instance_version),
            "devices": devices}


def not_found(what: str, tried: list[str], errors: list[str]) -> str:
    first = f" ({errors[0]})" if errors else ""
    return f"no {what} found{first}; tried {', '.join(tried) or 'nothing'}"


def _dlopen_error(exc: OSError) -> str:
    """cffi's message without its "cannot load library 'x': " prefix and ctypes hint."""
    text = str(exc).split("  Additionally")[0].rstrip(". ")
    return text.split("': ", 1)[1] if text.startswith("cannot load library") else text


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1:])))

// The Host Compute Service, Host Compute Network and HCS storage APIs, loaded at run time from
// computecore.dll, computenetwork.dll, computestorage.dll and virtdisk.dll (LoadLibrary +
// GetProcAddress), so
// zlayer.exe starts on hosts without them (no Containers feature, Wine) and every call that
// needs them fails with one clear error: unavailable, "HCS is not available on this host: ...".
// Windows only.
#pragma once

#include <windows.h>

#include <computecore.h>
#include <computenetwork.h>
#include <computestorage.h>
#include <virtdisk.h>

#include "common/error.h"

namespace zl::win {

#define ZL_HCS_FN(name) decltype(&::name) name = nullptr

struct HcsApi {  // computecore.dll
  ZL_HCS_FN(HcsCreateOperation);
  ZL_HCS_FN(HcsCloseOperation);
  ZL_HCS_FN(HcsWaitForOperationResult);
  ZL_HCS_FN(HcsWaitForOperationResultAndProcessInfo);
  ZL_HCS_FN(HcsEnumerateComputeSystems);
  ZL_HCS_FN(HcsCreateComputeSystem);
  ZL_HCS_FN(HcsOpenComputeSystem);
  ZL_HCS_FN(HcsCloseComputeSystem);
  ZL_HCS_FN(HcsStartComputeSystem);
  ZL_HCS_FN(HcsShutDownComputeSystem);
  ZL_HCS_FN(HcsTerminateComputeSystem);
  ZL_HCS_FN(HcsGetComputeSystemProperties);
  ZL_HCS_FN(HcsSetComputeSystemCallback);
  ZL_HCS_FN(HcsCreateProcess);
  ZL_HCS_FN(HcsCloseProcess);
  ZL_HCS_FN(HcsTerminateProcess);
  ZL_HCS_FN(HcsGetProcessProperties);
  ZL_HCS_FN(HcsWaitForProcessExit);  // optional: Windows Server 2022 / 10 21H1 and later (else null)
  ZL_HCS_FN(HcsGrantVmAccess);
};

struct HcnApi {  // computenetwork.dll
  ZL_HCS_FN(HcnEnumerateNetworks);
  ZL_HCS_FN(HcnCreateNetwork);
  ZL_HCS_FN(HcnOpenNetwork);
  ZL_HCS_FN(HcnCloseNetwork);
  ZL_HCS_FN(HcnEnumerateEndpoints);
  ZL_HCS_FN(HcnCreateEndpoint);
  ZL_HCS_FN(HcnOpenEndpoint);
  ZL_HCS_FN(HcnQueryEndpointProperties);
  ZL_HCS_FN(HcnDeleteEndpoint);
  ZL_HCS_FN(HcnCloseEndpoint);
  ZL_HCS_FN(HcnCreateNamespace);
  ZL_HCS_FN(HcnModifyNamespace);
  ZL_HCS_FN(HcnDeleteNamespace);
  ZL_HCS_FN(HcnCloseNamespace);
};

struct HcsStorageApi {  // computestorage.dll
  ZL_HCS_FN(HcsImportLayer);
  ZL_HCS_FN(HcsDestroyLayer);
  ZL_HCS_FN(HcsInitializeWritableLayer);
  ZL_HCS_FN(HcsAttachLayerStorageFilter);
  ZL_HCS_FN(HcsDetachLayerStorageFilter);
  ZL_HCS_FN(HcsFormatWritableLayerVhd);
  ZL_HCS_FN(HcsGetLayerVhdMountPath);
};

struct VirtDiskApi {  // virtdisk.dll: the scratch layer's VHDX
  ZL_HCS_FN(CreateVirtualDisk);
  ZL_HCS_FN(AttachVirtualDisk);
};

#undef ZL_HCS_FN

// Loaded once per process; the same error on every call when a DLL or a function is missing.
Result<const HcsApi*> hcs_api();
Result<const HcnApi*> hcn_api();
Result<const HcsStorageApi*> hcs_storage_api();
Result<const VirtDiskApi*> virtdisk_api();

// The first line of that error, for tests and `zlayer info`.
inline constexpr std::string_view kHcsUnavailable = "HCS is not available on this host";

}  // namespace zl::win

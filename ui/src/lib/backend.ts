// The one module that talks to the Tauri shell. Components never import @tauri-apps/api.
import { invoke } from "@tauri-apps/api/core";
import type { AppInfo } from "./generated/ipc";

export type { AppInfo, AccountSummary } from "./generated/ipc";

/** True when running inside the Tauri shell (false in a plain browser, e.g. UI previews). */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

export async function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>("app_info");
}

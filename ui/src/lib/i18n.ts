// User-facing text: French first, English available.
export type Lang = "fr" | "en";

const fr = {
  appTitle: "Pli — Messagerie sécurisée de santé",
  mailboxes: "Boîtes aux lettres",
  personal: "Ma boîte personnelle",
  services: "Boîtes de service",
  patients: "Patients",
  inbox: "Boîte de réception",
  messages: "Messages",
  reading: "Lecture",
  noAccount: "Aucune boîte configurée",
  noMessage: "Aucun message à afficher pour l’instant.",
  notSynced:
    "L’affichage des messages synchronisés arrive dans une prochaine version (le moteur synchronise déjà avec « pli sync ») : rien n’est affiché plutôt que des données fictives.",
  selectMessage: "Sélectionnez un message pour le lire.",
  environment: "Environnement",
  version: "Version",
  backendError: "Le moteur de Pli ne répond pas",
  envNames: { production: "Production", bas: "Test (BAS)", sandbox: "Bac à sable local" },
} as const;

type Dict = { readonly [K in keyof typeof fr]: (typeof fr)[K] extends string ? string : { readonly [E in keyof (typeof fr)[K]]: string } };

const en: Dict = {
  appTitle: "Pli — Secure health mail",
  mailboxes: "Mailboxes",
  personal: "My personal mailbox",
  services: "Service mailboxes",
  patients: "Patients",
  inbox: "Inbox",
  messages: "Messages",
  reading: "Reading",
  noAccount: "No mailbox configured",
  noMessage: "No message to show yet.",
  notSynced:
    "Showing synced messages comes in a next version (the engine already syncs with `pli sync`): nothing is shown rather than fake data.",
  selectMessage: "Select a message to read it.",
  environment: "Environment",
  version: "Version",
  backendError: "Pli's engine is not answering",
  envNames: { production: "Production", bas: "Test (BAS)", sandbox: "Local sandbox" },
};

export function dict(lang: Lang): Dict {
  return lang === "en" ? en : fr;
}

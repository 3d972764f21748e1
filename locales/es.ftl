# frase en español (el idioma por defecto). Cada clave existe también en en.ftl: un test lo comprueba.
# Las claves `problem-*` y `title-*` son los `detail` y `title` de los errores de la API
# (application/problem+json); `error-*` son los mensajes que muestran las páginas.

## Idioma

language-switch = Idioma
language-es = Español
language-en = English

## Comunes

back-home = Volver al inicio
loading = Cargando…
online-people = { $count ->
    [one] persona conectada
   *[other] personas conectadas
}

## Inicio

main-room-title = Sala principal
lobby-lead = Una frase entre todos: cada persona añade una palabra y todas las pantallas la ven al instante.
lobby-how-heading = Cómo se juega
lobby-how-1 = Abre una sala y enseña su código o su QR: cada cual entra desde su móvil o su portátil.
lobby-how-2 = Por turnos, cada persona añade una palabra a la frase común.
lobby-how-3 = Todas las pantallas ven cada palabra al instante; un punto termina la frase y empieza otra.
meta-description = frase: un juego para clase, talleres o fiestas en el que todos escriben una frase juntos, palabra a palabra, y cada pantalla la ve crecer al instante.
lobby-join-main = Entrar en la sala principal
lobby-create-label = Crea una sala para tu grupo
lobby-create-placeholder = p. ej. Clase de 3.º B
lobby-create-submit = Crear sala
lobby-code-label = ¿Tienes un código de sala?
lobby-code-placeholder = p. ej. clase-3b
lobby-code-submit = Entrar

## No encontrado

not-found-heading = No encontrado
not-found-text = Aquí no hay nada.

## Sala

room-code = Sala
room-error-title = Sala no encontrada
room-error-heading = Sala no disponible
room-error-missing = Esta sala no existe. Comprueba el código.
room-error-other = No se pudo cargar la sala: { $reason }
room-locked-notice = La sala está cerrada: de momento no se admiten palabras nuevas.
room-present-link = Abrir la vista para proyector
present-title-suffix = proyector
present-last-sentence = La última frase:
sentence-heading = La frase
sentence-empty = La frase está vacía: escribe la primera palabra.
story-heading = La historia
story-empty = Aún no hay frases terminadas. Una palabra que acaba en . ! ? o … cierra la frase.
story-download = Descargar la historia:
story-format-text = texto
story-page-link = La historia con sus autores y quién escribió cuánto
story-page-title-suffix = historia
story-page-unavailable = Historia no disponible
story-page-back = Volver a la sala
story-page-empty = Aún no hay frases terminadas.
story-page-contributors = Quién escribió cuánto
story-page-nobody = Nadie ha escrito todavía.
story-page-words = { $count ->
    [one] palabra
   *[other] palabras
}
chart-title = Palabras de cada persona
chart-others = Las demás
word-label = Tu palabra
word-submit = Añadir
my-word = Tu palabra:
my-word-undo = Deshacer
my-word-fixed-label = Palabra corregida
my-word-fix = Corregir
my-word-wait = Ahora le toca a otra persona: espera su palabra para añadir otra tuya.
name-label = Tu nombre
name-submit = Cambiar
name-shown-as = Apareces como
join-heading = Únete desde tu móvil
join-qr-label = Código QR de { $url }
lens-summary = Lente HTTP: lo que esta página envía y recibe
lens-empty = Añade una palabra o espera a la de otra persona: aquí verás la petición y el evento.
turn-waiting = Esperando a que el anfitrión empiece una ronda.
turn-yours = ¡Te toca!
turn-add-word = Añade tu palabra.
turn-of = Turno de

## Controles de anfitrión

host-heading = Controles de anfitrión
host-settings-title = Nombre de la sala
host-settings-word-length = Letras por palabra
host-settings-sentence-words = Palabras por frase
host-settings-no-double-turn = Nadie añade dos palabras seguidas
host-settings-save = Guardar
host-settings-mode = Modo de juego
host-mode-open = Libre
host-mode-turns = Por turnos
host-settings-turn-seconds = Segundos por turno
host-start-round = Empezar una ronda
host-start-another-round = Empezar otra ronda
host-open = Abrir la sala
host-lock = Cerrar la sala
host-end-sentence = Terminar la frase
host-remove-label = Quitar una palabra
host-remove = Quitar
host-delete = Borrar la sala
host-fix-label = Corregir una palabra
host-fix-text-label = Texto corregido
host-fix = Corregir
host-clear = Vaciar la frase
host-group-play = La partida
host-group-words = Las palabras
host-group-settings = Ajustes de la sala
host-group-danger = Sin vuelta atrás
host-clear-warning = Se quitan todas las palabras de la frase abierta; las frases terminadas se quedan.
host-clear-confirm = Sí, vaciar la frase
host-delete-warning = La sala, su frase y su historia desaparecen para todos.
host-delete-confirm = Sí, borrar la sala

## Mensajes de error de las páginas, por código de error

error-word-empty = Escribe una palabra.
error-word-multiple-tokens = Solo una palabra, sin espacios.
error-word-too-long = Demasiado larga: como mucho { $max } caracteres.
error-word-control-character = La palabra tiene caracteres de control.
error-word-markup = Los caracteres < > & y similares no se admiten.
error-word-invalid-character = La palabra tiene un carácter no admitido.
error-word-misplaced-punctuation = La puntuación está fuera de lugar.
error-double-turn = Espera a que otra persona añada la siguiente palabra.
error-not-your-turn = No es tu turno: espera a que te toque.
error-time-up = Se acabó tu tiempo: el turno pasó a la siguiente persona.
error-no-round = Aún no hay ronda: el anfitrión tiene que empezarla.
error-not-turns-mode = Para jugar por turnos, elige el modo «por turnos» y guarda.
error-room-locked = La sala está cerrada: no se admiten palabras nuevas.
error-room-not-found = Esta sala no existe.
error-not-host = Solo quien creó la sala puede hacer esto.
error-room-permanent = La sala principal no se puede borrar.
error-sentence-empty = La frase aún no tiene palabras.
error-word-not-found = Esa palabra ya no está.
error-not-allowed = Ya no se puede: una palabra se corrige en sus primeros 30 s y se deshace mientras es la última.
error-invalid-title = Ese nombre de sala no es válido (1 a 80 caracteres, sin < > &).
error-invalid-name = Ese nombre no es válido (1 a 40 caracteres, sin < > &).
error-rate-limited = Vas muy rápido: espera un momento y vuelve a intentarlo.
error-page-expired = La página caducó: recárgala y vuelve a intentarlo.
error-unavailable = No hay conexión con el servidor. Inténtalo de nuevo.
error-bad-room-code = Ese código de sala no es válido: usa letras minúsculas, números y guiones.
error-unknown = Algo salió mal; la palabra no se añadió.

## Títulos de los errores de la API (`title`)

title-bad-request = Petición incorrecta
title-not-found = No encontrado
title-method-not-allowed = Método no permitido
title-not-acceptable = No aceptable
title-conflict = Conflicto
title-precondition-failed = Precondición no cumplida
title-content-too-large = Contenido demasiado grande
title-unsupported-media-type = Tipo de contenido no admitido
title-unprocessable-content = Contenido no procesable
title-invalid-word = Palabra no válida
title-invalid-name = Nombre no válido
title-invalid-title = Nombre de sala no válido
title-invalid-settings = Ajustes no válidos
title-forbidden = Prohibido
title-cross-site-request-refused = Petición de otro sitio rechazada
title-locked = Sala cerrada
title-not-your-turn = No es tu turno
title-too-many-requests = Demasiadas peticiones
title-internal-server-error = Error interno del servidor
title-service-unavailable = Servicio no disponible
title-bad-response = Respuesta incorrecta
title-unexpected-response = Respuesta inesperada

## Detalles de los errores de la API (`detail`)

problem-internal = Algo falló en el servidor; el cambio no se aplicó.
problem-no-such-function = No hay ninguna función { $name }.
problem-function-method = Esta función no admite ese método: { $reason }
problem-bad-arguments = Los argumentos no son válidos: { $reason }
problem-unreachable = No se pudo contactar con el servidor.
problem-unreachable-because = No se pudo contactar con el servidor: { $reason }
problem-still-busy = El servidor aún está procesando esta palabra.
problem-bad-response = La respuesta del servidor no se entiende: { $reason }
problem-unexpected-response = Respuesta inesperada del servidor: { $reason }
problem-render-stalled = No se pudo generar la página; inténtalo de nuevo.
problem-database-unavailable = La base de datos no responde.
problem-shutting-down = El servidor se está apagando; vuelve a intentarlo en un momento.
problem-word-empty = La palabra está vacía.
problem-word-multiple-tokens = Una palabra debe ser un solo término, sin espacios.
problem-word-too-long = La palabra es demasiado larga: { $len } caracteres, el máximo es { $max }.
problem-word-control-character = La palabra contiene un carácter de control o invisible.
problem-word-markup = El carácter «{ $ch }» no se admite porque podría leerse como marcado.
problem-word-invalid-character = El carácter «{ $ch }» no se admite en una palabra.
problem-word-misplaced-punctuation = Puntuación fuera de lugar: apóstrofos y guiones van entre dos letras; «.», «,» y «:» dentro de una palabra solo entre dos cifras; y tras la puntuación de apertura debe venir una palabra.
problem-name-empty = El nombre está vacío.
problem-name-control-character = El nombre contiene un carácter de control o invisible.
problem-name-markup = El carácter «{ $ch }» no se admite porque podría leerse como marcado.
problem-name-too-long = El nombre es demasiado largo: { $len } caracteres, el máximo es { $max }.
problem-slug-empty = El código de sala está vacío.
problem-slug-invalid-character = El carácter «{ $ch }» no se admite en un código de sala (usa a-z, 0-9 y «-»).
problem-slug-invalid-start = El código de sala debe empezar por una letra a-z o una cifra.
problem-slug-too-long = El código de sala es demasiado largo: { $len } caracteres, el máximo es { $max }.
problem-settings-out-of-range = { $field } debe estar entre { $min } y { $max } (se recibió { $value }).
problem-double-turn = No puedes añadir dos palabras seguidas: espera a que juegue otra persona.
problem-not-your-turn = Es el turno de { $player }, no el tuyo: espera a que te toque.
problem-time-up = Se acabó tu tiempo: el turno pasó a la siguiente persona.
problem-no-round = No se está jugando ninguna ronda: las palabras se admiten cuando el anfitrión empieza una.
problem-not-turns-mode = La sala «{ $room }» no está en modo `turns`: cambia su modo a `turns` antes de empezar una ronda.
problem-turn-not-due = Ese turno ya no está en curso.
problem-room-not-found = No hay ninguna sala «{ $room }».
problem-word-not-found = No hay ninguna palabra «{ $id }».
problem-word-not-found-in-room = No hay ninguna palabra { $id } en la sala «{ $room }».
problem-room-exists = Ya hay una sala «{ $room }».
problem-room-locked = La sala «{ $room }» está cerrada: su anfitrión no admite palabras nuevas.
problem-unknown-field = Esta función no admite el campo «{ $field }».
problem-repeated-field = El campo «{ $field }» aparece más de una vez.
problem-stale = La sala ha cambiado: está en la versión { $current }, no en la indicada en If-Match.
problem-stale-no-room = If-Match indica una versión de la sala «{ $room }», que no existe.
problem-not-host = Solo el anfitrión de la sala «{ $room }» puede hacer esto.
problem-fix-not-author = Solo su autor o el anfitrión pueden corregir una palabra.
problem-fix-too-late = Su autor solo puede corregir una palabra en los primeros 30 segundos.
problem-remove-not-author = Solo su autor o el anfitrión pueden quitar una palabra.
problem-remove-not-last = Su autor solo puede quitar una palabra mientras sea la última.
problem-room-permanent = La sala «main» existe siempre: no se puede borrar.
problem-sentence-empty = La frase aún no tiene palabras: no hay nada que terminar.
problem-edit-changes-sentence-end = Una corrección no puede empezar ni terminar una frase; quita la palabra y añade otra.
problem-rate-limited-words = Demasiadas palabras demasiado rápido: espera { $seconds } s antes de la siguiente.
problem-rate-limited-address = Demasiados cambios desde esta dirección de red; espera un momento y vuelve a intentarlo.
problem-rate-limited-anonymous = Demasiados cambios sin cookie de sesión desde esta dirección de red; guarda la cookie que envía frase (curl: -c y -b) o espera un momento.
problem-rate-limited-streams = Hay demasiadas conexiones en directo abiertas desde esta dirección de red; cierra algunas pestañas o vuelve a intentarlo en un rato.
problem-body-not-object = El cuerpo debe ser un objeto JSON.
problem-body-fields = El cuerpo no tiene los campos esperados: { $reason }
problem-malformed-body = El cuerpo no se puede leer: { $reason }
problem-malformed-json = El cuerpo no es JSON válido: { $reason }
problem-unsupported-media-type = Envía el cuerpo como JSON, con Content-Type: application/json.
problem-body-too-large = El cuerpo de la petición supera los 16 KiB.
problem-bad-query = La cadena de consulta no es válida: { $reason }
problem-bad-page = `after` debe ser 0 o más y `limit` estar entre 1 y { $max }.
problem-bad-format = Formato desconocido «{ $format }»: usa json, txt o md.
problem-not-acceptable = La historia se sirve como application/json, text/plain o text/markdown.
problem-not-found = No hay nada en { $path }.
problem-method-not-allowed = { $path } no admite este método; la cabecera Allow indica los que admite.
problem-method-never = { $method } nunca se admite aquí.
problem-bad-request = No se pudo entender la petición.
problem-bad-last-event-id = Last-Event-ID debe ser una versión de la sala (un número entero), no «{ $value }».
problem-cross-site = Una página de { $origin } no puede cambiar nada aquí.
problem-bad-idempotency-key = Idempotency-Key debe tener de 1 a 255 caracteres ASCII visibles.
problem-idempotency-key-reused = Esta Idempotency-Key se usó para otra petición; usa una clave nueva.
problem-idempotency-key-in-flight = La primera petición con esta Idempotency-Key aún no ha terminado; nunca se ejecuta dos veces.
problem-bad-language = Idioma desconocido «{ $lang }»: usa es o en.
